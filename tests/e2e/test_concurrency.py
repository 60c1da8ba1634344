"""A page that fires requests in parallel gets them answered in parallel, as on Lambda: the races that only
concurrency shows (the last items of stock, a retried request) show locally too."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import Client, eventually
from tools.local.server import LocalStack


def a_product_with_stock(api: Client, admin_token: str, stock: int) -> str:
    price = {"amount": 2500, "currency": "EUR"}
    draft = {"name": f"Limited {uuid.uuid4().hex[:8]}", "category": "living", "price": price, "stock": stock}
    status, product = api.request("POST", "/products", token=admin_token, body=draft)
    assert status == 201, product
    return str(product["productId"])


def in_parallel(count: int, request: Any) -> list[tuple[int, dict[str, Any]]]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: request(), range(count)))


def test_a_hundred_concurrent_orders_for_ten_in_stock_place_exactly_ten_and_run_in_parallel(
    local: LocalStack, api: Client, customer_token: str, admin_token: str
) -> None:
    product = a_product_with_stock(api, admin_token, stock=10)
    orders = local.functions["OrdersFunction"]
    body = {"lines": [{"productId": product, "quantity": 1}]}

    answers = in_parallel(100, lambda: api.request("POST", "/orders", token=customer_token, body=body))

    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 10
    assert statuses.count(409) == 90
    assert len({order["orderId"] for status, order in answers if status == 201}) == 10
    assert api.request("GET", f"/products/{product}")[1]["stock"] == 0
    assert orders.peak_in_flight > 1  # invocations overlapped: several workers answered at once
    assert 1 < orders.workers <= orders.concurrency
    settled(api, customer_token, [order["orderId"] for status, order in answers if status == 201])


def settled(api: Client, token: str, order_ids: list[str]) -> None:
    """The worker has confirmed every order: the journeys after this test find the pipeline drained."""

    def confirmed() -> bool:
        return all(api.request("GET", f"/orders/{o}", token=token)[1]["status"] != "PLACED" for o in order_ids)

    eventually(confirmed, timeout=120)


def test_thirty_concurrent_requests_with_one_idempotency_key_place_one_order(
    local: LocalStack, api: Client, customer_token: str, admin_token: str
) -> None:
    product = a_product_with_stock(api, admin_token, stock=100)
    body = {"lines": [{"productId": product, "quantity": 2}]}
    key = str(uuid.uuid4())

    answers = in_parallel(
        30, lambda: api.request("POST", "/orders", token=customer_token, body=body, headers={"Idempotency-Key": key})
    )

    placed = {order["orderId"] for status, order in answers if status == 201}
    assert len(placed) == 1
    # The others got that same order back, or were told the first is still running (409, retry shortly).
    assert {status for status, _ in answers} <= {201, 409}
    assert api.request("GET", f"/products/{product}")[1]["stock"] == 98
