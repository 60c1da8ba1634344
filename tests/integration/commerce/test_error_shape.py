"""Every refusal the local gateway gives on the REST API, its own or a function's, is one JSON shape with CORS headers
(the HTTP API's POST /writer answers in its own shape: test_local_gateway_fidelity.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from dropshop.platform import settings
from tests.integration.commerce.conftest import Shop, machine_token
from tools.local.gateway import MAX_PAYLOAD_BYTES, Gateway

ORIGIN = "http://localhost:5173"


def refusal(response: Any) -> tuple[int, dict[str, Any]]:
    body = json.loads(response.get_data())
    assert set(body) >= {"error", "message", "field"}, body
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    return response.status_code, body


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("PATCH", "/products"), ("DELETE", "/orders"), ("POST", "/session")],
)
def test_a_route_the_api_does_not_have_is_a_404_in_the_error_shape(shop: Shop, method: str, path: str) -> None:
    status, body = refusal(shop.client.open(path, method=method))
    assert (status, body["error"], body["field"]) == (404, "not_found", "path")


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [(None, "missing bearer token"), ("Bearer not-a-jwt", "token is invalid"), ("Basic YTpi", "token is invalid")],
)
def test_the_authorizers_401_says_why(shop: Shop, authorization: str | None, reason: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, body = refusal(shop.client.get("/orders", headers=headers))
    assert (status, body["error"], body["field"]) == (401, "unauthenticated", "Authorization")
    assert body["message"].startswith(reason)


def test_a_body_over_api_gateways_limit_is_a_413(shop: Shop) -> None:
    response = shop.client.post("/telemetry", data=b"[" * (MAX_PAYLOAD_BYTES + 1), content_type="application/json")
    status, body = refusal(response)
    assert (status, body["error"], body["field"]) == (413, "payload_too_large", "body")


def test_a_writer_body_sqs_refuses_is_a_400_in_the_http_apis_shape_not_an_html_500(shop: Shop) -> None:
    # POST /writer is on the HTTP API, which has no gateway responses: its refusals are `{"message": ...}`.
    token = machine_token(shop)
    response = shop.client.post(
        "/writer",
        data=json.dumps({"padding": "x" * (1024 * 1024 + 1)}),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    body = json.loads(response.get_data())
    assert response.status_code == 400
    assert list(body) == ["message"]
    assert "1048576" in body["message"] or "long" in body["message"].lower(), body


def test_a_function_that_fails_is_a_502_in_the_error_shape(shop: Shop) -> None:
    def failing(function: str, event: dict[str, Any]) -> Any:
        raise RuntimeError(f"{function} crashed")

    gateway = Gateway(shop.stack, failing, jwks_url=settings.settings().jwks_url, log=lambda line: None)
    status, body = refusal(Client(gateway).get("/products"))
    assert (status, body["error"]) == (502, "server_error")
    assert "crashed" not in body["message"]
