"""A frontend on any local port calls the local stack from a browser: preflight and the call itself."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tools.local.server import LocalStack


def _headers(url: str, method: str, origin: str) -> dict[str, str]:
    request = urllib.request.Request(url, method=method, headers={"Origin": origin})  # noqa: S310
    if method == "OPTIONS":
        request.add_header("Access-Control-Request-Method", "POST")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local gateway
        return dict(response.headers)


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:5173", "http://localhost:8080"])
def test_the_local_stack_admits_a_frontend_on_any_local_port(local: LocalStack, origin: str) -> None:
    preflight = _headers(f"{local.url}/orders", "OPTIONS", origin)
    assert preflight["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert _headers(f"{local.url}/products", "GET", origin)["Access-Control-Allow-Origin"] == origin


def test_the_local_stack_refuses_another_site(local: LocalStack) -> None:
    assert "Access-Control-Allow-Origin" not in _headers(f"{local.url}/products", "GET", "http://evil.example")


def test_the_asyncapi_document_is_served_beside_the_openapi_one(local: LocalStack) -> None:
    with urllib.request.urlopen(f"{local.url}/asyncapi.json", timeout=30) as response:  # noqa: S310
        served = json.loads(response.read())
    assert served["asyncapi"] == "3.0.0"
    assert served["servers"]["local"]["host"] == f"127.0.0.1:{local.websocket_port}"
