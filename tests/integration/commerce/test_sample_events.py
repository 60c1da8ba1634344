"""The commerce handlers fed with the sample events in events/ (what `sam local invoke -e` sends)."""

from __future__ import annotations

import json

import pytest

from tests.integration.commerce.conftest import Shop
from tests.support.events import load_event
from tools.local.server import seed_catalog


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
    event = load_event(name, ID_TOKEN=signed_in.id_token, SUB=signed_in.sub, USERNAME=signed_in.username)
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
