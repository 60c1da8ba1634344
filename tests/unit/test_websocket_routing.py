"""The WebSocket routes' plumbing: route keys, message validation and error answers, without AWS."""

from __future__ import annotations

import json
from typing import Any

from dropshop.platform.errors import Unauthenticated
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
