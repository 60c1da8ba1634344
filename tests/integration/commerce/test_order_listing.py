"""GET /orders in pages: each listing (an admin's everyone / one status / one customer, a customer's own, with or
without a status) returns exactly its orders, newest first, each once, every page full but the last."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.orders.events import order_placed
from dropshop.orders.model import Order, OrderStatus, StatusChange
from dropshop.orders.repository import OrderRepository
from tests.integration.commerce.conftest import Shop
from tests.support.properties import budget

PLACED_FROM = datetime(2026, 11, 30, 12, tzinfo=UTC)
CUSTOMERS = ("customer", "other")
# Who lists, and which query parameters (a customer's own listing needs no customerId).
LISTINGS = [
    ("admin", ("status",)),
    ("admin", ()),
    ("admin", ("customerId",)),
    ("admin", ("customerId", "status")),
    ("customer", ()),
    ("customer", ("status",)),
]

# An order to store: whose (an index into CUSTOMERS), its status, when it was placed (milliseconds after
# PLACED_FROM: a narrow range, so several share a time) and whether its history holds an entry too.
ORDER_SPECS = st.lists(
    st.tuples(st.sampled_from(range(len(CUSTOMERS))), st.sampled_from(OrderStatus), st.integers(0, 15), st.booleans()),
    max_size=24,
)


def _repository(shop: Shop) -> OrderRepository:
    physical = shop.stack.physical
    return OrderRepository(shop.stack.client("dynamodb"), physical["OrdersTable"], physical["OutboxTable"])


def _order(shop: Shop, *, customer: str, status: OrderStatus, placed_at: str) -> Order:
    line = {
        "productId": "mug",
        "name": "Mug",
        "quantity": 1,
        "unitPrice": {"amount": 1250, "currency": "EUR"},
        "total": {"amount": 1250, "currency": "EUR"},
        "vatCategory": "standard",
        "vatRate": "23",
    }
    customer_id = shop.users[customer].sub
    return Order.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "customerId": customer_id,
            "status": status,
            "lines": [line],
            "total": line["total"],
            "placedAt": placed_at,
            "updatedAt": placed_at,
            "updatedBy": customer_id,
        }
    )


def _at(milliseconds: int) -> str:
    return (PLACED_FROM + timedelta(milliseconds=milliseconds)).isoformat(timespec="milliseconds")


def store(shop: Shop, order: Order, *, with_history: bool = False) -> Order:
    """The order as the repository stores it (in any status), and a history entry (an item that carries a status
    but is no order: it must never be listed)."""
    orders = _repository(shop)
    orders.add(order, [], order_placed(order))
    if with_history:
        change = StatusChange(status=order.status, previous=None, at=order.placed_at, by="test", event_id="e1")
        assert orders.record(order.order_id, change)
    return order


def forget_every_order(shop: Shop) -> None:
    dynamodb, table = shop.stack.client("dynamodb"), shop.stack.physical["OrdersTable"]
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="orderId, entry"):
        for key in page["Items"]:
            dynamodb.delete_item(TableName=table, Key=key)


def pages(shop: Shop, as_user: str, query: dict[str, str], *, limit: int, most: int) -> list[list[dict[str, Any]]]:
    """Every page of the listing, following nextCursor (at most `most` pages: a cursor that never ends fails)."""
    read: list[list[dict[str, Any]]] = []
    cursor = None
    while len(read) < most:
        sent = query | {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        status, page = shop.call("GET", f"/orders?{urlencode(sent)}", as_user=as_user)
        assert status == 200, page
        read.append(page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            return read
    raise AssertionError(f"still a nextCursor after {most} pages")


@budget(25)
@given(
    specs=ORDER_SPECS,
    listing=st.sampled_from(LISTINGS),
    status=st.sampled_from(OrderStatus),
    whose=st.sampled_from(range(len(CUSTOMERS))),
    limit=st.one_of(st.integers(1, 7), st.just(100)),
)
# Full pages end exactly at the last match: no cursor to an empty page.
@example(
    specs=[(0, OrderStatus.SHIPPED, 0, False)] * 4, listing=LISTINGS[0], status=OrderStatus.SHIPPED, whose=0, limit=2
)
# The matches are the oldest orders, behind a page's worth of others: the first page is still full.
@example(
    specs=[(0, OrderStatus.PLACED, 9, True)] * 5 + [(1, OrderStatus.CANCELLED, 1, True)] * 3,
    listing=LISTINGS[0],
    status=OrderStatus.CANCELLED,
    whose=0,
    limit=2,
)
@example(
    specs=[(1, OrderStatus.CANCELLED, 9, False)] * 3 + [(0, OrderStatus.CANCELLED, 1, False)] * 3,
    listing=LISTINGS[5],
    status=OrderStatus.CANCELLED,
    whose=0,
    limit=2,
)
def test_each_listing_pages_through_exactly_its_orders_newest_first_in_full_pages(
    shop: Shop,
    specs: list[tuple[int, OrderStatus, int, bool]],
    listing: tuple[str, tuple[str, ...]],
    status: OrderStatus,
    whose: int,
    limit: int,
) -> None:
    forget_every_order(shop)
    stored = [
        store(shop, _order(shop, customer=CUSTOMERS[c], status=s, placed_at=_at(ms)), with_history=history)
        for c, s, ms, history in specs
    ]
    as_user, parameters = listing
    customer_id = shop.users[CUSTOMERS[whose] if as_user == "admin" else as_user].sub
    query = {"status": status.value, "customerId": customer_id}
    query = {name: query[name] for name in parameters}
    expected = [
        order
        for order in stored
        if ("status" not in query or order.status is status)
        and ((as_user == "admin" and "customerId" not in query) or order.customer_id == customer_id)
    ]

    read = pages(shop, as_user, query, limit=limit, most=len(stored) + 2)

    listed = [order for page in read for order in page]
    listed_ids = [order["orderId"] for order in listed]
    assert len(listed_ids) == len(set(listed_ids)), "an order listed twice"
    assert set(listed_ids) == {order.order_id for order in expected}
    placed = [order["placedAt"] for order in listed]
    assert placed == sorted(placed, reverse=True)
    assert all(len(page) == limit for page in read[:-1])
    assert 0 < len(read[-1]) <= limit or (read == [[]] and not expected)


def test_an_order_that_changes_status_while_an_admin_pages_is_listed_at_most_once(shop: Shop) -> None:
    """The cursor is a position (status, time placed, order), not an order: an order that leaves the status after
    its page was read is not listed again, one that leaves before is not listed, one that enters behind the
    cursor is listed, one that enters ahead of it (newer) is not, for this reading."""
    statuses = ["CONFIRMED", "CONFIRMED", "PLACED", "CONFIRMED", "PLACED", "CONFIRMED"]
    one, two, three, four, five, six = [
        store(shop, _order(shop, customer="customer", status=OrderStatus(s), placed_at=_at(ms)))
        for ms, s in enumerate(statuses)
    ]
    status, first = shop.call("GET", "/orders?status=CONFIRMED&limit=2", as_user="admin")
    assert status == 200, first
    assert [order["orderId"] for order in first["items"]] == [six.order_id, four.order_id]

    for order, to in [(six, "SHIPPED"), (two, "CANCELLED"), (three, "CONFIRMED"), (five, "CONFIRMED")]:
        status, answer = shop.call("PUT", f"/orders/{order.order_id}/status", as_user="admin", body={"status": to})
        assert status == 200, answer

    rest = pages(shop, "admin", {"status": "CONFIRMED", "cursor": first["nextCursor"]}, limit=2, most=3)
    listed = [order["orderId"] for page in rest for order in page]
    # five entered ahead of the cursor (it is newer than four): the next reading from the start lists it.
    assert listed == [three.order_id, one.order_id]
    again = [
        order["orderId"] for page in pages(shop, "admin", {"status": "CONFIRMED"}, limit=2, most=3) for order in page
    ]
    assert again == [five.order_id, four.order_id, three.order_id, one.order_id]


def test_a_cursor_continues_only_the_listing_that_handed_it_out(shop: Shop) -> None:
    for ms, status in enumerate(["PLACED", "PLACED", "PLACED", "CANCELLED", "CANCELLED"]):
        store(shop, _order(shop, customer="customer", status=OrderStatus(status), placed_at=_at(ms)))
    _, placed = shop.call("GET", "/orders?status=PLACED&limit=1", as_user="admin")
    cursor = placed["nextCursor"]
    assert cursor
    # Another status: the same kind of cursor, another partition: it starts over rather than skip anything.
    _, cancelled = shop.call("GET", f"/orders?status=CANCELLED&limit=1&cursor={cursor}", as_user="admin")
    _, cancelled_first = shop.call("GET", "/orders?status=CANCELLED&limit=1", as_user="admin")
    assert cancelled["items"] == cancelled_first["items"] != []
    # Another listing altogether: not a cursor it handed out.
    customer = shop.users["customer"].sub
    for as_user, query in [
        ("admin", ""),
        ("admin", f"customerId={customer}&"),
        ("admin", f"customerId={customer}&status=PLACED&"),
        ("customer", "status=PLACED&"),
        ("customer", ""),
    ]:
        status, answer = shop.call("GET", f"/orders?{query}cursor={cursor}", as_user=as_user)
        assert (status, answer["field"]) == (400, "cursor"), (as_user, query, answer)
    # And a customer's cursor of one status does not continue the same customer's listing without it.
    _, own = shop.call("GET", "/orders?status=PLACED&limit=1", as_user="customer")
    status, answer = shop.call("GET", f"/orders?cursor={own['nextCursor']}", as_user="customer")
    assert (status, answer["field"]) == (400, "cursor")


# A cursor is base64 text anyone can forge: the listing's key names with any JSON as values.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(["S", "N", "B", "x"]), inner, max_size=2)
    ),
    max_leaves=4,
)


@budget(40)
@given(
    listing=st.sampled_from(
        [("admin", "status=PLACED&", "status"), ("admin", "", "entry"), ("customer", "", "customerId")]
    ),
    values=st.tuples(JSON_VALUES, JSON_VALUES, JSON_VALUES, JSON_VALUES),
)
@example(listing=("admin", "status=PLACED&", "status"), values=({"S": ""}, {"S": "order"}, {"S": "x"}, {"S": "PLACED"}))
@example(listing=("admin", "", "entry"), values=({"S": "\ud800"}, {"S": "order"}, {"S": "x"}, {"S": "order"}))
@example(listing=("customer", "", "customerId"), values=({"N": "x"}, {"S": "order"}, {"S": "x"}, {"S": "x"}))
def test_a_forged_cursor_is_a_400_or_starts_over_never_a_500(
    shop: Shop, listing: tuple[str, str, str], values: tuple[Any, Any, Any, Any]
) -> None:
    as_user, query, partition = listing
    names = ["orderId", "entry", "placedAt", partition]
    key = dict(zip(names, values, strict=False))
    if partition == "customerId":  # a customer's own partition, so the forged position is used, not started over
        key["customerId"] = {"S": shop.users["customer"].sub}
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    status, answer = shop.call("GET", f"/orders?{query}{urlencode({'cursor': cursor})}", as_user=as_user)
    assert status in (200, 400), answer
    if status == 400:
        assert answer["field"] == "cursor"
