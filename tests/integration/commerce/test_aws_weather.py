"""The commerce guarantees under DynamoDB's own refusals, which moto never makes: transactions cancelled for
TransactionConflict and ThrottlingError, single writes refused with TransactionConflictException, reads throttled
past botocore's retries (tests/support/faults.py injects each on the functions' real client, as AWS answers it).

No oversell, gapless numbers and one credit note must hold; a refusal that lasts is a 503 with Retry-After in the
one error shape, never a 500 and never a 409 that says the products changed while stock remains."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from dropshop.identity.model import Principal
from dropshop.invoicing import service as invoicing
from dropshop.orders import service as orders
from dropshop.orders.model import PlaceOrder
from dropshop.platform import aws, dynamodb
from dropshop.platform.errors import Conflict, ServiceUnavailable
from handlers.invoice.invoice_pdf import render
from tests.integration.commerce.conftest import Shop
from tests.support.faults import (
    PROVISIONED_THROUGHPUT_EXCEEDED,
    THROTTLING_ERROR,
    TRANSACTION_CONFLICT,
    TRANSACTION_CONFLICT_EXCEPTION,
    DynamoDBWeather,
)

YEAR = datetime.now(UTC).year
HELD = 150_000  # above AutoConfirmLimitCents: the order waits for an admin


@pytest.fixture
def weather(shop: Shop) -> Iterator[DynamoDBWeather]:
    """DynamoDB's refusals on the client every function of this (in-process) container uses."""
    client = aws.client("dynamodb")
    faults = DynamoDBWeather().attach(client)
    yield faults
    faults.detach(client)


def answer(
    shop: Shop, method: str, path: str, body: Any = None, *, as_user: str = "customer", key: str | None = None
) -> tuple[int, Any, Any]:
    """Status, JSON body and headers of an API call (with an Idempotency-Key when `key`)."""
    headers = {"Authorization": f"Bearer {shop.users[as_user].id_token}"} | ({"Idempotency-Key": key} if key else {})
    data = None if body is None else json.dumps(body)
    response = shop.client.open(path, method=method, data=data, headers=headers, content_type="application/json")
    return response.status_code, json.loads(response.get_data() or b"null"), response.headers


def stock(shop: Shop, product_id: str) -> int:
    return int(shop.item("ProductsTable", productId=product_id)["stock"]["N"])  # type: ignore[index]


def test_hundred_concurrent_orders_for_a_stock_of_ten_sell_exactly_ten_while_their_transactions_conflict(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    weather.overlapping_transactions = True  # AWS's rule: a transaction on an item another one holds is cancelled
    mug = shop.add_product(stock=10)
    customer = Principal(user_id="customer-1", username="jane", groups=["customer"])
    request = PlaceOrder.model_validate({"lines": [{"productId": mug, "quantity": 1}]})

    def attempt(_: int) -> str:
        try:
            orders.place_order(request, customer=customer)
        except Conflict as refused:
            return f"409 {refused.field}"
        except Exception as fault:  # what the API would answer 5xx
            return f"5xx {type(fault).__name__}: {fault}"
        return "placed"

    with ThreadPoolExecutor(max_workers=100) as pool:
        outcomes = list(pool.map(attempt, range(100)))
    assert weather.injected.get(f"TransactWriteItems {TRANSACTION_CONFLICT}", 0) > 0  # the weather did blow
    assert outcomes.count("placed") == 10, sorted(set(outcomes))
    assert outcomes.count("409 lines[0].quantity") == 90, sorted(set(outcomes))
    assert stock(shop, mug) == 0


def test_an_order_whose_transaction_stays_throttled_is_a_503_with_retry_after_and_reserves_nothing(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    mug = shop.add_product(stock=10)
    weather.script("TransactWriteItems", THROTTLING_ERROR, dynamodb.CONFLICT_ATTEMPTS)
    status, body, headers = answer(shop, "POST", "/orders", {"lines": [{"productId": mug, "quantity": 1}]})
    assert (status, headers.get("Retry-After")) == (503, str(dynamodb.RETRY_AFTER_SECONDS)), body
    assert set(body) == {"error", "message", "field"}
    assert body["error"] == "unavailable"
    assert stock(shop, mug) == 10
    # The weather passes: the same request now succeeds.
    status, body, _ = answer(shop, "POST", "/orders", {"lines": [{"productId": mug, "quantity": 1}]})
    assert status == 201, body
    assert stock(shop, mug) == 9


def test_a_transaction_cancelled_for_a_conflict_a_few_times_is_placed_without_the_client_knowing(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    mug = shop.add_product(stock=10)
    weather.script("TransactWriteItems", TRANSACTION_CONFLICT, orders.PLACING_ATTEMPTS)
    status, body, _ = answer(shop, "POST", "/orders", {"lines": [{"productId": mug, "quantity": 2}]})
    assert status == 201, body
    assert stock(shop, mug) == 8


def test_a_read_throttled_past_botocores_retries_is_a_503_with_retry_after(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    mug = shop.add_product()
    order = shop.place_order(mug)
    weather.script("Query", PROVISIONED_THROUGHPUT_EXCEEDED, 10, table="Orders")
    status, body, headers = answer(shop, "GET", f"/orders/{order['orderId']}")
    assert (status, headers.get("Retry-After")) == (503, "1"), (body, weather.injected)
    assert body["error"] == "unavailable"
    # botocore's standard mode made its attempts (with jitter) and no more: the legacy default makes 10.
    assert weather.injected[f"Query {PROVISIONED_THROUGHPUT_EXCEEDED}"] == aws.DYNAMODB_ATTEMPTS


def test_a_read_throttled_a_few_times_is_absorbed_by_botocores_own_retries(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    mug = shop.add_product()
    order = shop.place_order(mug)
    weather.script("Query", PROVISIONED_THROUGHPUT_EXCEEDED, aws.DYNAMODB_ATTEMPTS - 1, table="Orders")
    status, body, _ = answer(shop, "GET", f"/orders/{order['orderId']}")
    assert status == 200, body
    assert weather.injected[f"Query {PROVISIONED_THROUGHPUT_EXCEEDED}"] == aws.DYNAMODB_ATTEMPTS - 1


def test_a_keyed_order_whose_idempotency_record_stays_throttled_is_a_503_after_standard_modes_attempts(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    """Powertools' idempotency layer writes its record through the function's own DynamoDB client, in botocore's
    standard retry mode like every DynamoDB call: DYNAMODB_ATTEMPTS attempts with jittered backoff, not the legacy
    mode's 10 a client of its own would make ("Retry behavior",
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html)."""
    mug = shop.add_product(stock=10)
    weather.script("PutItem", PROVISIONED_THROUGHPUT_EXCEEDED, aws.DYNAMODB_ATTEMPTS + 1, table="Idempotency")
    line = {"lines": [{"productId": mug, "quantity": 1}]}
    status, body, headers = answer(shop, "POST", "/orders", line, key="order-1")
    assert weather.injected == {f"PutItem {PROVISIONED_THROUGHPUT_EXCEEDED}": aws.DYNAMODB_ATTEMPTS}
    assert (status, headers.get("Retry-After"), body["error"]) == (
        503,
        str(dynamodb.RETRY_AFTER_SECONDS),
        "unavailable",
    )
    assert stock(shop, mug) == 10
    # The last throttle is absorbed by botocore's retries: the client's retry places the order, once.
    status, body, _ = answer(shop, "POST", "/orders", line, key="order-1")
    assert status == 201, body
    assert answer(shop, "POST", "/orders", line, key="order-1")[:2] == (201, body)
    assert stock(shop, mug) == 9


def test_a_keyed_order_whose_idempotency_record_cannot_be_completed_is_still_answered_once(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    """The order is placed, then marking its idempotency record complete is throttled past botocore's retries: the
    order stands and is answered (a 503 or a 502 would send the client to retry an order already placed)."""
    mug = shop.add_product(stock=10)
    weather.script("UpdateItem", PROVISIONED_THROUGHPUT_EXCEEDED, aws.DYNAMODB_ATTEMPTS, table="Idempotency")
    status, body, _ = answer(shop, "POST", "/orders", {"lines": [{"productId": mug, "quantity": 1}]}, key="order-2")
    assert weather.injected == {f"UpdateItem {PROVISIONED_THROUGHPUT_EXCEEDED}": aws.DYNAMODB_ATTEMPTS}
    assert status == 201, body
    assert stock(shop, mug) == 9


def test_a_keyed_order_refused_whose_idempotency_record_cannot_be_deleted_is_answered_its_own_refusal(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    """The order is refused (409: not enough stock), then Powertools' delete of its in-progress record is throttled
    past botocore's retries: the client must get the 409 it has to act on, not a 503 that sends it to retry."""
    mug = shop.add_product(stock=1)
    weather.script("DeleteItem", PROVISIONED_THROUGHPUT_EXCEEDED, aws.DYNAMODB_ATTEMPTS, table="Idempotency")
    line = {"lines": [{"productId": mug, "quantity": 2}]}
    status, body, _ = answer(shop, "POST", "/orders", line, key="order-3")
    assert weather.injected == {f"DeleteItem {PROVISIONED_THROUGHPUT_EXCEEDED}": aws.DYNAMODB_ATTEMPTS}
    assert (status, body["error"], body["field"]) == (409, "conflict", "lines[0].quantity"), body
    assert stock(shop, mug) == 1


def test_an_admins_status_change_that_meets_the_workers_transaction_is_retried_not_a_500(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    sofa = shop.add_product(name="Sofa", amount=HELD)
    order = shop.place_order(sofa)
    # The order worker's transaction on the same order is in flight: DynamoDB cancels the admin's twice.
    weather.script("TransactWriteItems", TRANSACTION_CONFLICT, 2, table="Orders")
    status, body, _ = answer(
        shop, "PUT", f"/orders/{order['orderId']}/status", {"status": "CONFIRMED"}, as_user="admin"
    )
    assert (status, body.get("status")) == (200, "CONFIRMED"), body
    assert weather.injected[f"TransactWriteItems {TRANSACTION_CONFLICT}"] == 2


@pytest.mark.parametrize("reason", [TRANSACTION_CONFLICT, THROTTLING_ERROR])
def test_product_writes_that_meet_a_conflict_or_a_throttle_are_retried_not_a_500(
    shop: Shop, weather: DynamoDBWeather, reason: str
) -> None:
    weather.script("TransactWriteItems", reason, 3, table="Products")
    mug = shop.add_product()
    weather.script("TransactWriteItems", reason, 3, table="Products")
    draft = {"name": "Big mug", "category": "kitchen", "price": {"amount": 1500, "currency": "EUR"}, "stock": 4}
    status, body, _ = answer(shop, "PUT", f"/products/{mug}", draft, as_user="admin")
    assert (status, body.get("name")) == (200, "Big mug"), body
    weather.script("TransactWriteItems", reason, 3, table="Products")
    status, body, _ = answer(shop, "DELETE", f"/products/{mug}", as_user="admin")
    assert status == 200, body
    assert weather.injected[f"TransactWriteItems {reason}"] == 9


def counter(shop: Shop, series: str) -> int:
    item = shop.item("InvoicesTable", id=f"{series}#{YEAR}")
    return int(item["last"]["N"]) if item else 0


def test_invoices_issued_at_once_under_conflicts_take_consecutive_numbers_without_gaps(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    sofa = shop.add_product(name="Sofa", amount=HELD, stock=20)
    order_ids = [shop.place_order(sofa)["orderId"] for _ in range(8)]
    start = counter(shop, "counter")
    weather.overlapping_transactions = True  # numbering transactions all hold the year's counter
    weather.script("TransactWriteItems", TRANSACTION_CONFLICT, 6, table="Invoices")

    def issue(order_id: str) -> int:
        while True:  # what SQS does for a message that failed: deliver it again
            try:
                issued = invoicing.issue_invoice(order_id, render=render)
            except (Conflict, ServiceUnavailable):  # the record fails; SQS delivers it again
                continue
            assert issued is not None
            return issued.sequence

    with ThreadPoolExecutor(max_workers=8) as pool:
        sequences = sorted(pool.map(issue, order_ids * 2))  # each order twice: a redelivery racing the first
    assert weather.injected[f"TransactWriteItems {TRANSACTION_CONFLICT}"] >= 6
    assert sequences == sorted(list(range(start + 1, start + 9)) * 2)
    assert counter(shop, "counter") == start + 8


def test_cancelled_orders_get_exactly_one_credit_note_each_under_conflicts(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    mug = shop.add_product(stock=20)
    order_ids = [shop.place_order(mug)["orderId"] for _ in range(5)]
    shop.settle()  # confirmed and invoiced
    for order_id in order_ids:
        status, body, _ = answer(shop, "PUT", f"/orders/{order_id}/status", {"status": "CANCELLED"}, as_user="admin")
        assert status == 200, body
    start = counter(shop, "credit-note-counter")
    weather.overlapping_transactions = True
    weather.script("TransactWriteItems", TRANSACTION_CONFLICT, 6, table="Invoices")

    def credit(order_id: str) -> str:
        while True:
            try:
                note = invoicing.issue_credit_note(order_id, render=render)
            except (Conflict, ServiceUnavailable):  # the record fails; SQS delivers it again
                continue
            assert note is not None
            return note.number

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(credit, order_ids * 2))
    assert numbers[:5] == numbers[5:]
    assert sorted(numbers[:5]) == [f"CN-{YEAR}-{n:06d}" for n in range(start + 1, start + 6)]
    assert counter(shop, "credit-note-counter") == start + 5


def test_an_invoice_shown_on_its_order_while_the_order_is_in_a_transaction_is_retried(
    shop: Shop, weather: DynamoDBWeather
) -> None:
    mug = shop.add_product()
    order = shop.place_order(mug)
    shop.settle()
    # InvoiceIssued once more; the order worker's UpdateItem that shows the invoice meets a transaction on the
    # order (an admin's status change), twice.
    weather.script("UpdateItem", TRANSACTION_CONFLICT_EXCEPTION, 2, table="Orders")
    answer_ = shop.wiring.invoke("OrderWorkerFunction", shop.redelivery("InvoiceIssued", order["orderId"]))
    assert answer_ == {"batchItemFailures": []}
    assert weather.injected[f"UpdateItem {TRANSACTION_CONFLICT_EXCEPTION}"] == 2
