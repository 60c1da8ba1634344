"""The WebSocket routes' plumbing: route keys, message validation and error answers, without AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform.errors import Unauthenticated
from dropshop.platform.json_depth import MAX_DEPTH
from dropshop.platform.websocket import WebSocketRequest, dispatch
from dropshop.realtime.model import OrderStatusMessage, Subscribe


def event(route: str, body: str | None = None) -> dict[str, Any]:
    return {"requestContext": {"routeKey": route, "connectionId": "c-1"}, "body": body}


def subscribe(request: WebSocketRequest) -> OrderStatusMessage:
    wanted = request.message(Subscribe)
    return OrderStatusMessage(order_id=wanted.order_id, status="PLACED", at="2026-11-25T10:00:00.000+00:00", stage=0)


def refuse(_: WebSocketRequest) -> None:
    raise Unauthenticated("no token", field="token")


ROUTES = {"subscribe": subscribe, "$connect": refuse}


def test_a_route_answers_with_its_model_in_camel_case() -> None:
    answer = dispatch(event("subscribe", '{"action": "subscribe", "orderId": "o-1"}'), ROUTES)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {
        "type": "orderStatus",
        "orderId": "o-1",
        "status": "PLACED",
        "previous": None,
        "at": "2026-11-25T10:00:00.000+00:00",
        "stage": 0,
    }


def test_domain_errors_become_the_status_and_a_json_body() -> None:
    assert dispatch(event("$connect"), ROUTES) == {
        "statusCode": 401,
        "body": json.dumps({"error": "unauthenticated", "message": "no token", "field": "token"}),
    }


def test_bad_messages_name_what_is_wrong() -> None:
    not_json = dispatch(event("subscribe", "{"), ROUTES)
    assert (not_json["statusCode"], json.loads(not_json["body"])["field"]) == (400, "body")
    missing = dispatch(event("subscribe", '{"action": "subscribe"}'), ROUTES)
    assert (missing["statusCode"], json.loads(missing["body"])["field"]) == (422, "orderId")


def test_a_route_the_function_does_not_serve_is_404_naming_the_action() -> None:
    answer = dispatch(event("shout"), ROUTES)
    assert (answer["statusCode"], json.loads(answer["body"])["field"]) == (404, "action")


def nested_subscribe(depth: int) -> str:
    return '{"action": "subscribe", "orderId": "o-1", "extra": ' + "[" * depth + "]" * depth + "}"


@given(depth=st.integers(MAX_DEPTH + 1, 100_000))
@example(depth=50_000)  # RecursionError inside json.loads before the guard: a function error, not an answer
def test_a_message_nested_too_deep_is_a_400_frame_never_a_function_error(depth: int) -> None:
    answer = dispatch(event("subscribe", nested_subscribe(depth)), ROUTES)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {
        "error": "malformed_request",
        "message": f"body is nested deeper than {MAX_DEPTH} levels",
        "field": "body",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"action": "subscribe", "orderId": "o-1", "orderId": "o-2"}', "orderId"),  # no silent last-wins
        ('{"action": "subscribe", "orderId": NaN}', "body"),
        ('{"action": "subscribe", "orderId": ' + "1" * 5000 + "}", "body"),
    ],
)
def test_a_message_is_read_as_strictly_as_a_rest_body(body: str, field: str) -> None:
    answer = dispatch(event("subscribe", body), ROUTES)
    assert (answer["statusCode"], json.loads(answer["body"])["field"]) == (400, field)
