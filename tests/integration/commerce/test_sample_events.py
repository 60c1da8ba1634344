"""The commerce handlers fed with the sample events in events/ (what `sam local invoke -e` sends)."""

from __future__ import annotations

import json

import pytest

from tests.integration.commerce.conftest import Shop
from tests.support.events import load_event
from tools.local.server import DEMO_ORDER_ID, seed_catalog, seed_order


@pytest.mark.parametrize(
    ("function", "name", "user", "status"),
    [
        ("ProductsFunction", "products/list-products", "customer", 200),
        ("ProductsFunction", "products/get-product", "customer", 200),
        ("ProductsFunction", "products/add-product", "admin", 201),
        ("OrdersFunction", "orders/place-order", "customer", 201),
        ("OrdersFunction", "orders/list-orders", "customer", 200),
        ("OrdersFunction", "orders/out-of-stock", "customer", 409),
    ],
)
def test_api_sample_events(shop: Shop, function: str, name: str, user: str, status: int) -> None:
    seed_catalog(shop.stack)
    signed_in = shop.users[user]
    event = load_event(name, **signed_in.placeholders)
    response = shop.wiring.invoke(function, event)
    assert response["statusCode"] == status, response["body"]
    assert json.loads(response["body"])


def test_event_relay_sample_publishes_both_events_to_the_order_worker(shop: Shop) -> None:
    result = shop.wiring.invoke("EventRelayFunction", load_event("event_relay/outbox-inserts"))
    assert result == {"batchItemFailures": []}
    assert shop.wiring.depth("OrderWorkerQueue") == 2


def test_order_worker_sample_records_the_history_of_the_order_it_names(shop: Shop) -> None:
    event = load_event("order_worker/order-events")
    assert shop.wiring.invoke("OrderWorkerFunction", event) == {"batchItemFailures": []}
    order_id = json.loads(event["Records"][0]["body"])["data"]["orderId"]
    entries = shop.stack.client("dynamodb").query(
        TableName=shop.stack.physical["OrdersTable"],
        KeyConditionExpression="orderId = :id",
        ExpressionAttributeValues={":id": {"S": order_id}},
    )["Items"]
    assert sorted(entry["status"]["S"] for entry in entries) == ["PLACED", "SHIPPED"]


def test_invoice_notification_push_and_websocket_samples_run_against_the_demo_order(shop: Shop) -> None:
    seed_catalog(shop.stack)
    customer = shop.users["customer"]
    seed_order(shop.stack, customer.sub)
    shop.settle()  # confirmed and invoiced, as `make local` does at start-up
    placeholders = customer.placeholders

    for function, name in [
        ("InvoiceFunction", "invoice/confirmed-order"),
        ("NotificationFunction", "notification/order-events"),
        ("StatusPushFunction", "status_push/status-changed"),
    ]:
        assert shop.wiring.invoke(function, load_event(name, **placeholders)) == {"batchItemFailures": []}, name
    invoice = shop.wiring.invoke("OrdersFunction", load_event("orders/get-invoice", **placeholders))
    assert invoice["statusCode"] == 200, invoice["body"]
    assert json.loads(invoice["body"])["number"].startswith("DS-")

    for name, status in [
        ("connect-anonymous", 401),
        ("connect", 200),
        ("disconnect", 200),
        ("subscribe", 200),
    ]:
        answer = shop.wiring.invoke("WebSocketFunction", load_event(f"websocket/{name}", **placeholders))
        assert answer["statusCode"] == status, (name, answer)
    subscribed = json.loads(answer["body"])
    assert (subscribed["orderId"], subscribed["status"]) == (DEMO_ORDER_ID, "CONFIRMED")


def test_credit_note_samples_run_against_the_demo_order_once_it_is_cancelled(shop: Shop) -> None:
    seed_catalog(shop.stack)
    customer = shop.users["customer"]
    seed_order(shop.stack, customer.sub)
    shop.settle()
    placeholders = customer.placeholders
    before = shop.wiring.invoke("OrdersFunction", load_event("orders/get-credit-note", **placeholders))
    assert before["statusCode"] == 404, before["body"]
    # A cancellation the order itself does not confirm (it is CONFIRMED) credits nothing.
    assert shop.wiring.invoke("InvoiceFunction", load_event("invoice/cancelled-order")) == {"batchItemFailures": []}
    assert shop.item("InvoicesTable", id=f"credit-note#{DEMO_ORDER_ID}") is None

    cancelled = shop.call("PUT", f"/orders/{DEMO_ORDER_ID}/status", as_user="admin", body={"status": "CANCELLED"})
    assert cancelled[0] == 200
    shop.settle()
    # The sample is that cancellation delivered once more: harmless.
    assert shop.wiring.invoke("InvoiceFunction", load_event("invoice/cancelled-order")) == {"batchItemFailures": []}
    note = shop.wiring.invoke("OrdersFunction", load_event("orders/get-credit-note", **placeholders))
    assert note["statusCode"] == 200, note["body"]
    assert json.loads(note["body"])["number"].startswith("CN-")
