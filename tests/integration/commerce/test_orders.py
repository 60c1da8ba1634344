"""/orders through the template's REST API, and what follows an order through the outbox, SNS and SQS."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dropshop.catalog import service as catalog
from dropshop.identity.model import Principal
from dropshop.orders import service as orders
from dropshop.orders.model import PlaceOrder
from dropshop.platform import bus
from dropshop.platform.errors import Conflict
from tests.integration.commerce.conftest import Shop

# What shop.add_product() adds.
DRAFT = {
    "name": "Mug",
    "category": "kitchen",
    "price": {"amount": 1250, "currency": "EUR"},
    "stock": 10,
    "vatCategory": "standard",
}


def place(shop: Shop, lines: list[dict], *, as_user: str = "customer", key: str | None = None) -> tuple[int, dict]:
    headers = {"Idempotency-Key": key} if key else None
    return shop.call("POST", "/orders", as_user=as_user, body={"lines": lines}, headers=headers)


def stock(shop: Shop, product_id: str) -> int:
    return shop.call("GET", f"/products/{product_id}")[1]["stock"]


def test_order_is_priced_from_the_catalog_and_reserves_its_stock(shop: Shop) -> None:
    mug, lamp = shop.add_product(amount=1250, stock=10), shop.add_product(name="Lamp", amount=4999, stock=3)
    status, order = place(shop, [{"productId": mug, "quantity": 2}, {"productId": lamp, "quantity": 1}])
    assert status == 201
    assert order["status"] == "PLACED"
    assert order["customerId"] == shop.users["customer"].sub
    assert [line["total"]["amount"] for line in order["lines"]] == [2500, 4999]
    assert order["total"] == {"amount": 7499, "currency": "EUR"}
    assert (stock(shop, mug), stock(shop, lamp)) == (8, 2)


def test_a_price_sent_by_the_client_is_refused_not_used(shop: Shop) -> None:
    mug = shop.add_product()
    status, answer = place(shop, [{"productId": mug, "quantity": 1, "unitPrice": {"amount": 1, "currency": "EUR"}}])
    assert status == 422
    assert answer["field"] == "lines[0].unitPrice"
    assert stock(shop, mug) == 10


@pytest.mark.parametrize(
    ("lines", "status", "field"),
    [
        ([{"productId": "no-such-product", "quantity": 1}], 422, "lines[0].productId"),
        ([{"productId": "{mug}", "quantity": 0}], 422, "lines[0].quantity"),
        ([{"productId": "{mug}", "quantity": 11}], 409, "lines[0].quantity"),
        ([{"productId": "{mug}", "quantity": 1}, {"productId": "{mug}", "quantity": 1}], 422, "lines"),
        ([], 422, "lines"),
        # Loose types placed orders before (201): a boolean, a numeric string and a float are not quantities.
        ([{"productId": "{mug}", "quantity": True}], 422, "lines[0].quantity"),
        ([{"productId": "{mug}", "quantity": "1"}], 422, "lines[0].quantity"),
        ([{"productId": "{mug}", "quantity": 1e1}], 422, "lines[0].quantity"),
    ],
)
def test_an_order_that_cannot_be_placed_names_the_field_and_reserves_nothing(
    shop: Shop, lines: list[dict], status: int, field: str
) -> None:
    mug = shop.add_product(stock=10)
    lines = [{**line, "productId": line["productId"].replace("{mug}", mug)} for line in lines]
    answer_status, answer = place(shop, lines)
    assert (answer_status, answer["field"]) == (status, field), answer
    assert stock(shop, mug) == 10


# What an admin changes on the product while an order is between reading the catalog and committing.
CHANGES = {
    "price": ({"price": {"amount": 990, "currency": "EUR"}}, lambda line: line["unitPrice"]["amount"], 990),
    "vat category": (
        {"vatCategory": "reduced"},
        lambda line: (line["vatCategory"], line["vatRate"]),
        ("reduced", "13.5"),
    ),
}


def change_product_after_each_read(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, product_id: str, changes: list[dict[str, Any]]
) -> None:
    """After each of the order's catalog reads, one of `changes` lands (an admin's PUT) before the order commits."""
    read = catalog.current
    pending = iter(changes)

    def read_then_change(product_ids: list[str]) -> dict[str, Any]:
        products = read(product_ids)
        change = next(pending, None)
        if change is not None:
            status, answer = shop.call("PUT", f"/products/{product_id}", as_user="admin", body=DRAFT | change)
            assert status == 200, answer
        return products

    monkeypatch.setattr(catalog, "current", read_then_change)


@pytest.mark.parametrize("changed", sorted(CHANGES))
def test_an_order_priced_from_a_product_that_changes_before_it_commits_is_priced_again(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    change, quoted, expected = CHANGES[changed]
    mug = shop.add_product()
    change_product_after_each_read(shop, monkeypatch, mug, [change])
    status, order = place(shop, [{"productId": mug, "quantity": 1}])
    assert status == 201, order
    assert quoted(order["lines"][0]) == expected
    assert shop.order(order["orderId"])["lines"] == order["lines"]
    assert stock(shop, mug) == 9


@pytest.mark.parametrize("changed", sorted(CHANGES))
def test_an_order_whose_product_keeps_changing_is_refused_with_409_and_reserves_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    change, _, _ = CHANGES[changed]
    mug = shop.add_product()
    flip_flop = [change, {key: DRAFT[key] for key in change}] * orders.PLACING_ATTEMPTS
    change_product_after_each_read(shop, monkeypatch, mug, flip_flop)
    status, answer = place(shop, [{"productId": mug, "quantity": 1}])
    assert (status, answer["field"]) == (409, "lines"), answer
    assert stock(shop, mug) == 10
    assert shop.call("GET", "/orders", as_user="customer")[1]["items"] == []


def test_a_product_stored_before_vat_categories_is_ordered_at_the_standard_rate(shop: Shop) -> None:
    mug = shop.add_product()
    shop.stack.client("dynamodb").update_item(
        TableName=shop.stack.physical["ProductsTable"],
        Key={"productId": {"S": mug}},
        UpdateExpression="REMOVE vatCategory",
    )
    status, order = place(shop, [{"productId": mug, "quantity": 1}])
    assert status == 201, order
    assert (order["lines"][0]["vatCategory"], order["lines"][0]["vatRate"]) == ("standard", "23")


def test_fifty_concurrent_orders_for_a_stock_of_ten_sell_exactly_ten(shop: Shop) -> None:
    mug = shop.add_product(stock=10)
    customer = Principal(user_id="customer-1", username="jane", groups=["customer"])
    request = PlaceOrder.model_validate({"lines": [{"productId": mug, "quantity": 1}]})

    def attempt(_: int) -> str:
        try:
            orders.place_order(request, customer=customer)
        except Conflict as refused:
            return f"refused: {refused.field}"
        return "placed"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert outcomes.count("placed") == 10
    assert outcomes.count("refused: lines[0].quantity") == 40
    assert stock(shop, mug) == 0


def test_a_replayed_idempotency_key_returns_the_same_order_and_reserves_once(shop: Shop) -> None:
    mug = shop.add_product(stock=10)
    first_status, first = place(shop, [{"productId": mug, "quantity": 3}], key="checkout-7f3a")
    again_status, again = place(shop, [{"productId": mug, "quantity": 3}], key="checkout-7f3a")
    assert (first_status, again_status) == (201, 201)
    assert again == first
    assert stock(shop, mug) == 7
    status, refused = place(shop, [{"productId": mug, "quantity": 4}], key="checkout-7f3a")
    assert status == 422
    assert refused["field"] == "Idempotency-Key"
    # Keys are per customer: another customer's identical key is a new order.
    other_status, other = place(shop, [{"productId": mug, "quantity": 3}], as_user="other", key="checkout-7f3a")
    assert other_status == 201
    assert other["orderId"] != first["orderId"]
    assert stock(shop, mug) == 4


def test_order_visibility_matrix(shop: Shop) -> None:
    mug = shop.add_product()
    _, order = place(shop, [{"productId": mug, "quantity": 1}])
    path = f"/orders/{order['orderId']}"
    assert shop.call("GET", path)[0] == 401
    assert shop.call("GET", path, as_user="customer")[0] == 200
    assert shop.call("GET", path, as_user="other")[0] == 404  # someone else's order does not exist for you
    assert shop.call("GET", path, as_user="admin")[0] == 200
    assert shop.call("GET", path, as_user="machine")[0] == 401  # a batch job's access token is no user's
    assert shop.call("POST", "/orders", body={"lines": [{"productId": mug, "quantity": 1}]})[0] == 401
    assert place(shop, [{"productId": mug, "quantity": 1}], as_user="machine")[0] == 401
    assert place(shop, [{"productId": mug, "quantity": 1}], as_user="admin")[0] == 403  # admins do not shop
    assert shop.call("GET", "/orders")[0] == 401
    assert shop.call("PUT", f"{path}/status", as_user="machine", body={"status": "SHIPPED"})[0] == 401


def test_customers_list_their_own_orders_newest_first_in_pages(shop: Shop) -> None:
    mug = shop.add_product(stock=20)
    mine = [place(shop, [{"productId": mug, "quantity": 1}])[1]["orderId"] for _ in range(3)]
    place(shop, [{"productId": mug, "quantity": 1}], as_user="other")
    status, first_page = shop.call("GET", "/orders?limit=2", as_user="customer")
    assert status == 200
    assert len(first_page["items"]) == 2
    _, second_page = shop.call("GET", f"/orders?limit=2&cursor={first_page['nextCursor']}", as_user="customer")
    listed = [order["orderId"] for order in first_page["items"] + second_page["items"]]
    assert listed == list(reversed(mine))


@pytest.mark.parametrize(
    ("user", "query", "expected"),
    [
        (None, "", 401),
        ("machine", "", 401),
        ("customer", "", 200),
        ("customer", "?customerId={own}", 200),
        ("customer", "?customerId={other}", 403),
        ("customer", "?status=PLACED", 200),
        ("admin", "", 200),
        ("admin", "?customerId={other}", 200),
        ("admin", "?status=CANCELLED", 200),
        ("admin", "?status=LOST", 422),
        ("admin", "?customerId=", 422),
    ],
)
def test_order_listing_matrix(shop: Shop, user: str | None, query: str, expected: int) -> None:
    own, other = shop.users["customer"].sub, shop.users["other"].sub
    status, answer = shop.call("GET", "/orders" + query.format(own=own, other=other), as_user=user)
    assert status == expected, answer


def test_admins_list_every_order_newest_first_in_pages(shop: Shop) -> None:
    mug = shop.add_product(stock=20)
    placed = [
        place(shop, [{"productId": mug, "quantity": 1}], as_user=user)[1]["orderId"]
        for user in ("customer", "other", "customer")
    ]
    first = shop.call("GET", "/orders?limit=2", as_user="admin")[1]
    rest = shop.call("GET", f"/orders?limit=2&cursor={first['nextCursor']}", as_user="admin")[1]
    assert [order["orderId"] for order in first["items"] + rest["items"]] == list(reversed(placed))
    assert rest["nextCursor"] is None


def test_admins_filter_the_listing_by_status_and_by_customer(shop: Shop) -> None:
    mug = shop.add_product(stock=20)
    janes = [place(shop, [{"productId": mug, "quantity": 1}])[1]["orderId"] for _ in range(2)]
    omars = place(shop, [{"productId": mug, "quantity": 1}], as_user="other")[1]["orderId"]
    assert shop.call("PUT", f"/orders/{janes[0]}/status", as_user="admin", body={"status": "CANCELLED"})[0] == 200

    def listed(query: str) -> list[str]:
        status, page = shop.call("GET", f"/orders?{query}", as_user="admin")
        assert status == 200, page
        return [order["orderId"] for order in page["items"]]

    assert listed("status=CANCELLED") == [janes[0]]
    assert listed(f"customerId={shop.users['customer'].sub}") == list(reversed(janes))
    assert listed(f"customerId={shop.users['other'].sub}") == [omars]
    assert listed(f"customerId={shop.users['customer'].sub}&status=CANCELLED") == [janes[0]]


def test_another_customers_cursor_starts_over_from_the_callers_own_orders(shop: Shop) -> None:
    mug = shop.add_product(stock=20)
    for _ in range(3):
        place(shop, [{"productId": mug, "quantity": 1}])
    theirs = place(shop, [{"productId": mug, "quantity": 1}], as_user="other")[1]["orderId"]
    _, janes_page = shop.call("GET", "/orders?limit=2", as_user="customer")
    status, page = shop.call("GET", f"/orders?limit=2&cursor={janes_page['nextCursor']}", as_user="other")
    assert status == 200
    assert [order["orderId"] for order in page["items"]] == [theirs]


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        (["CONFIRMED", "SHIPPED", "DELIVERED"], [200, 200, 200]),
        (["SHIPPED"], [409]),
        (["CONFIRMED", "SHIPPED", "CANCELLED"], [200, 200, 409]),
        (["CANCELLED", "CONFIRMED"], [200, 409]),
    ],
)
def test_admins_move_orders_through_the_life_cycle_and_invalid_moves_are_409(
    shop: Shop, moves: list[str], expected: list[int]
) -> None:
    mug = shop.add_product()
    _, order = place(shop, [{"productId": mug, "quantity": 1}])
    path = f"/orders/{order['orderId']}/status"
    statuses = [shop.call("PUT", path, as_user="admin", body={"status": move})[0] for move in moves]
    assert statuses == expected


def test_only_admins_change_status_and_an_unknown_status_names_the_field(shop: Shop) -> None:
    mug = shop.add_product()
    _, order = place(shop, [{"productId": mug, "quantity": 1}])
    path = f"/orders/{order['orderId']}/status"
    assert shop.call("PUT", path, body={"status": "SHIPPED"})[0] == 401
    assert shop.call("PUT", path, as_user="customer", body={"status": "CANCELLED"})[0] == 403
    status, answer = shop.call("PUT", path, as_user="admin", body={"status": "LOST"})
    assert status == 422
    assert answer["field"] == "status"
    assert shop.call("PUT", "/orders/nope/status", as_user="admin", body={"status": "CONFIRMED"})[0] == 404


def test_cancelling_puts_the_stock_back(shop: Shop) -> None:
    mug = shop.add_product(stock=10)
    _, order = place(shop, [{"productId": mug, "quantity": 4}])
    assert stock(shop, mug) == 6
    status, cancelled = shop.call(
        "PUT", f"/orders/{order['orderId']}/status", as_user="admin", body={"status": "CANCELLED"}
    )
    assert status == 200
    assert cancelled["status"] == "CANCELLED"
    assert stock(shop, mug) == 10


def test_placed_order_is_announced_confirmed_by_the_worker_and_its_history_kept(shop: Shop) -> None:
    mug = shop.add_product(amount=1250)
    _, order = place(shop, [{"productId": mug, "quantity": 2}])
    shop.settle()
    _, settled = shop.call("GET", f"/orders/{order['orderId']}", as_user="customer")
    assert settled["status"] == "CONFIRMED"
    assert settled["updatedBy"] == "system"  # the worker, as its customer sees it
    assert [(c["previous"], c["status"]) for c in settled["history"]] == [(None, "PLACED"), ("PLACED", "CONFIRMED")]
    assert shop.order(order["orderId"], as_user="admin")["updatedBy"] == "order-worker"


def test_a_customer_sees_an_admins_moves_as_the_admin_role_never_the_admins_sub(shop: Shop) -> None:
    mug = shop.add_product()
    _, order = place(shop, [{"productId": mug, "quantity": 1}])
    shop.settle()
    path = f"/orders/{order['orderId']}/status"
    assert shop.call("PUT", path, as_user="admin", body={"status": "SHIPPED"})[0] == 200
    shop.settle()  # the history is kept from the order's events
    admin, customer = shop.users["admin"].sub, shop.users["customer"].sub
    seen = shop.order(order["orderId"])
    listed = shop.call("GET", "/orders", as_user="customer")[1]["items"]
    assert admin not in json.dumps(seen)
    assert admin not in json.dumps(listed)
    assert seen["updatedBy"] == "admin"
    assert [c["by"] for c in seen["history"]] == [customer, "system", "admin"]
    as_admin = shop.order(order["orderId"], as_user="admin")
    assert [c["by"] for c in as_admin["history"]] == [customer, "order-worker", admin]


def test_an_order_over_the_automatic_limit_waits_for_an_admin(shop: Shop) -> None:
    expensive = shop.add_product(amount=60_000)
    _, order = place(shop, [{"productId": expensive, "quantity": 2}])  # 1,200.00 > 1,000.00
    shop.settle()
    _, settled = shop.call("GET", f"/orders/{order['orderId']}", as_user="admin")
    assert settled["status"] == "PLACED"
    assert [c["status"] for c in settled["history"]] == ["PLACED"]


def test_redelivered_events_change_nothing(shop: Shop) -> None:
    mug = shop.add_product()
    _, order = place(shop, [{"productId": mug, "quantity": 1}])
    shop.settle()
    outbox = shop.stack.client("dynamodb").scan(TableName=shop.stack.physical["OutboxTable"])["Items"]
    sqs = shop.stack.client("sqs")
    for item in outbox:  # every event once more, as an at-least-once delivery may do
        event = bus.DomainEvent.from_json(item["event"]["S"])
        sqs.send_message(
            QueueUrl=shop.stack.physical["OrderWorkerQueue"],
            MessageBody=event.to_json(),
            MessageAttributes={"eventType": {"DataType": "String", "StringValue": event.type}},
        )
    shop.settle()
    _, settled = shop.call("GET", f"/orders/{order['orderId']}", as_user="customer")
    assert settled["status"] == "CONFIRMED"
    assert len(settled["history"]) == 2


def test_a_stored_order_is_announced_even_when_publishing_fails_at_first(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish = bus.EventPublisher.publish
    failures = iter([True, True])

    def flaky(self: bus.EventPublisher, event: bus.DomainEvent) -> None:
        if next(failures, False):
            raise ConnectionError("SNS unreachable")
        publish(self, event)

    monkeypatch.setattr(bus.EventPublisher, "publish", flaky)
    mug = shop.add_product()
    _, order = place(shop, [{"productId": mug, "quantity": 1}])
    shop.settle()
    _, settled = shop.call("GET", f"/orders/{order['orderId']}", as_user="customer")
    assert settled["status"] == "CONFIRMED"
    assert shop.wiring.depth("EventRelayDLQ") == 0


def test_order_events_reach_the_worker_queue_only_through_its_filter(shop: Shop) -> None:
    shop.add_product()  # ProductChanged: published, but not for the order worker
    shop.wiring.drain()
    assert shop.wiring.invocations.get("EventRelayFunction", 0) >= 1
    assert shop.wiring.invocations.get("OrderWorkerFunction", 0) == 0


@pytest.mark.parametrize("key", ["   ", "k" * 129, "two words", "caf\u00e9", "tab\t", "\x00", "\ud800"])
def test_a_malformed_idempotency_key_is_one_422_naming_the_header(shop: Shop, key: str) -> None:
    mug = shop.add_product()
    status, answer = place(shop, [{"productId": mug, "quantity": 1}], key=key)
    assert (status, answer["error"], answer["field"]) == (422, "invalid_request", "Idempotency-Key")
    assert [detail["field"] for detail in answer["details"]] == ["Idempotency-Key"]
    assert stock(shop, mug) == 10


def test_a_message_that_is_not_an_event_ends_in_the_worker_dead_letter_queue(shop: Shop) -> None:
    shop.stack.client("sqs").send_message(QueueUrl=shop.stack.physical["OrderWorkerQueue"], MessageBody="not json")
    shop.settle()
    assert shop.wiring.depth("OrderWorkerQueue") == 0
    assert shop.wiring.depth("OrderWorkerDLQ") == 1


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; Charset=UTF-8"])
def test_an_order_sent_as_json_in_any_case_of_its_media_type_is_placed(shop: Shop, content_type: str) -> None:
    # RFC 9110 §8.3.1: type and subtype are case-insensitive (the charset's value too, §8.3.2).
    mug = shop.add_product()
    response = shop.client.post(
        "/orders",
        data=json.dumps({"lines": [{"productId": mug, "quantity": 1}]}),
        headers={"Authorization": f"Bearer {shop.users['customer'].id_token}", "Content-Type": content_type},
    )
    assert response.status_code == 201, response.get_data()
