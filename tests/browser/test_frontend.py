"""What the shop's frontend does, in Chromium: calls the API from its own origin with a token (CORS preflight
included), hears its order's status on a WebSocket opened with `?token=`; from any other origin, CORS refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tests.e2e.conftest import Client, eventually
from tools.local.server import LocalStack


def shop_page(open_page: Callable[[str], Any], origin: str, local: LocalStack) -> Any:
    return open_page(f"{origin}/shop.html?" + urlencode({"api": local.url, "ws": local.websocket_url}))


def call(page: Any, method: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate(
        "([method, path, token, body]) => call(method, path, token, body ?? undefined)", [method, path, token, body]
    )
    return answer


def test_the_frontend_reads_the_session_and_places_an_order_through_cors(
    open_page: Callable[[str], Any], frontend: str, local: LocalStack, customer_token: str, gateway_log: list[str]
) -> None:
    page = shop_page(open_page, frontend, local)

    session = call(page, "GET", "/session", customer_token)
    order = call(page, "POST", "/orders", customer_token, {"lines": [{"productId": "demo-enamel-mug", "quantity": 1}]})

    assert session["status"] == 200
    assert session["body"]["username"] == "jane"
    assert order["status"] == 201
    assert order["body"]["status"] == "PLACED"
    # The Authorization header makes each call non-simple: Chromium asked the gateway first.
    preflights = [line for line in gateway_log if line.startswith("OPTIONS") and "CORS preflight" in line]
    assert any("/session" in line for line in preflights)
    assert any("/orders" in line for line in preflights)


def test_the_frontend_hears_its_order_shipped_on_a_websocket_opened_with_its_token(
    open_page: Callable[[str], Any],
    frontend: str,
    local: LocalStack,
    api: Client,
    customer_token: str,
    admin_token: str,
) -> None:
    page = shop_page(open_page, frontend, local)
    placed = call(page, "POST", "/orders", customer_token, {"lines": [{"productId": "demo-enamel-mug", "quantity": 1}]})
    order_id = placed["body"]["orderId"]
    assert page.evaluate("([token, orderId]) => listen(token, orderId)", [customer_token, order_id]) == "open"
    eventually(lambda: api.request("GET", f"/orders/{order_id}", token=admin_token)[1].get("status") == "CONFIRMED")

    status, _ = api.request("PUT", f"/orders/{order_id}/status", token=admin_token, body={"status": "SHIPPED"})

    assert status == 200
    page.wait_for_function(
        "orderId => window.pushes.some(p => p.orderId === orderId && p.status === 'SHIPPED')", arg=order_id
    )


def test_the_same_page_on_a_foreign_origin_is_refused_by_cors(
    open_page: Callable[[str], Any], foreign: str, local: LocalStack, customer_token: str
) -> None:
    page = shop_page(open_page, foreign, local)

    refused = call(page, "GET", "/session", customer_token)

    assert "status" not in refused  # the page never sees the answer
    assert "Failed to fetch" in refused["error"]


def test_the_frontend_reads_products_and_its_session_through_the_typed_client(
    open_page: Callable[[str], Any], frontend: str, local: LocalStack, customer_token: str
) -> None:
    page = shop_page(open_page, frontend, local)

    products = page.evaluate("() => typedGet('/products')")
    session = page.evaluate("(token) => typedGet('/session', token)", customer_token)

    assert products["status"] == 200
    assert "demo-enamel-mug" in [product["productId"] for product in products["body"]["items"]]
    assert session["status"] == 200
    assert session["body"]["username"] == "jane"
