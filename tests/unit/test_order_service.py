"""The orders' use cases and repository on moto's DynamoDB (ProductsTable, OrdersTable, OutboxTable and
IdempotencyTable as the template declares them): what placing, moving, listing and the orders' own reactions store,
announce and refuse, including under the conflicts and throttles DynamoDB answers and moto never does (injected on
the real client by tests/support/faults.py, as AWS documents them)."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.catalog import service as catalog
from dropshop.catalog.model import Price, ProductDraft
from dropshop.identity.model import Principal
from dropshop.invoicing.events import CREDIT_NOTE_ISSUED, INVOICE_ISSUED
from dropshop.orders import service
from dropshop.orders.model import NEXT_STATUSES, ChangeStatus, LineRequest, Order, OrderStatus, PlaceOrder
from dropshop.orders.repository import OrderRepository
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.dynamodb import (
    CONFLICT_ATTEMPTS,
    CONFLICT_BACKOFF_MAX_SECONDS,
    RETRY_AFTER_SECONDS,
    TransactionCancelled,
)
from dropshop.platform.errors import (
    Conflict,
    Forbidden,
    MalformedRequest,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from dropshop.platform.pagination import encode_cursor
from tests.support import container
from tests.support.faults import TRANSACTION_CONFLICT, TRANSACTION_CONFLICT_EXCEPTION, DynamoDBWeather
from tests.support.logs import LogLines
from tests.support.properties import budget
from tests.support.tables import create_declared_table

PRODUCTS, ORDERS, OUTBOX, IDEMPOTENCY = "products", "orders", "outbox", "idempotency"
JANE = Principal(user_id="c-jane", username="jane", groups=["customers"])
JOE = Principal(user_id="c-joe", username="joe", groups=["customers"])
ADMIN_SUB = "5f0c2a8e-admin-sub"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch, aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        for logical_id, name in [
            ("ProductsTable", PRODUCTS),
            ("OrdersTable", ORDERS),
            ("OutboxTable", OUTBOX),
            ("IdempotencyTable", IDEMPOTENCY),
        ]:
            create_declared_table(client, logical_id, name)
        monkeypatch.setenv("PRODUCTS_TABLE", PRODUCTS)
        monkeypatch.setenv("ORDERS_TABLE", ORDERS)
        monkeypatch.setenv("OUTBOX_TABLE", OUTBOX)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY)
        container.cold_start()
        yield client
    container.cold_start()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoffs the service waited (not waited here: the waits' length is not under test, their number is)."""
    waited: list[float] = []
    monkeypatch.setattr(service.time, "sleep", waited.append)
    return waited


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock a second apart per reading: orders placed in one test get distinct placedAt, in order."""
    ticks = itertools.count()
    monkeypatch.setattr(service, "now_iso", lambda: f"2026-12-07T08:00:{next(ticks):06.3f}+00:00")


def counted(emitted: dict[str, Any], name: str) -> tuple[str, list[float]]:
    """A metric's unit and the values the invocation would emit."""
    return emitted[name]["Unit"], emitted[name]["Value"]


def a_product(name: str = "Enamel mug", *, stock: int = 10, amount: int = 1250) -> str:
    draft = ProductDraft(name=name, category="kitchen", price=Price(amount=amount, currency="EUR"), stock=stock)
    return catalog.add_product(draft).product_id


def an_order(*lines: tuple[str, int]) -> PlaceOrder:
    return PlaceOrder(lines=[LineRequest(product_id=product, quantity=quantity) for product, quantity in lines])


def same(read: Order | None, order: Order) -> bool:
    """The same order: read back, its prices are Money where the catalog's were Price (equal values)."""
    return read is not None and read.model_dump() == order.model_dump()


def stock_of(product_id: str) -> int:
    return catalog.get_product(product_id).stock


def announced(dynamodb: Any, kind: str | None = None) -> list[dict[str, Any]]:
    """The events in the outbox (of `kind`), oldest first."""
    events = [json.loads(item["event"]["S"]) for item in dynamodb.scan(TableName=OUTBOX)["Items"]]
    return sorted((e for e in events if kind in (None, e["type"])), key=lambda e: (e["occurredAt"], e["type"]))


def order_items(dynamodb: Any) -> list[dict[str, Any]]:
    return list(dynamodb.scan(TableName=ORDERS)["Items"])


def before_transactions(action: Callable[[int], None]) -> list[int]:
    """Run `action(n)` before the n-th TransactWriteItems of the layer's client (from 0); the calls' count."""
    calls: list[int] = []

    def hook(**_: Any) -> None:
        action(len(calls))
        calls.append(len(calls))

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    return calls


def set_price(dynamodb: Any, product_id: str, amount: int) -> None:
    """Another admin's price change, through the test's own client (not the layer's, whose hooks fire here)."""
    dynamodb.update_item(
        TableName=PRODUCTS,
        Key={"productId": {"S": product_id}},
        UpdateExpression="SET priceAmount = :amount",
        ExpressionAttributeValues={":amount": {"N": str(amount)}},
    )


def set_status(dynamodb: Any, order_id: str, status: OrderStatus) -> None:
    dynamodb.update_item(
        TableName=ORDERS,
        Key={"orderId": {"S": order_id}, "entry": {"S": "order"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status.value}},
    )


def event_of(dynamodb: Any, kind: str, order_id: str) -> DomainEvent:
    (event,) = [e for e in announced(dynamodb, kind) if e["data"]["orderId"] == order_id]
    return DomainEvent.from_json(json.dumps(event))


# ---------------------------------------------------------------- placing


def test_a_placed_order_is_priced_from_the_catalog_reserves_its_stock_and_is_announced(
    dynamodb: Any, logs: LogLines, emitted: dict[str, Any]
) -> None:
    mug, lamp = a_product("Mug", stock=5, amount=1250), a_product("Lamp", stock=3, amount=4999)
    order = service.place_order(an_order((mug, 2), (lamp, 1)), customer=JANE)
    assert uuid.UUID(order.order_id).version == 4
    assert (order.customer_id, order.status, order.updated_by) == (JANE.user_id, OrderStatus.PLACED, JANE.user_id)
    assert order.placed_at == order.updated_at
    assert [(line.product_id, line.name, line.quantity, line.unit_price.amount) for line in order.lines] == [
        (mug, "Mug", 2, 1250),
        (lamp, "Lamp", 1, 4999),
    ]
    assert (order.total.amount, order.total.currency) == (2 * 1250 + 4999, "EUR")
    assert (stock_of(mug), stock_of(lamp)) == (3, 2)
    assert same(service.get_order(order.order_id, caller=JANE, may_read_any=False), order)
    assert same(service.find(order.order_id), order)
    (placed,) = announced(dynamodb, "OrderPlaced")
    assert placed["data"] == order.model_dump(mode="json", exclude={"history", "invoice", "credit_note"})
    assert counted(emitted, "OrdersPlaced") == ("Count", [1])
    (line,) = logs.with_message("order placed")
    assert (line["orderId"], line["total"]) == (order.order_id, order.total.model_dump())


def test_an_order_beyond_stock_is_409_naming_its_line_and_reserves_nothing(
    dynamodb: Any, emitted: dict[str, Any]
) -> None:
    mug, lamp = a_product("Mug", stock=5), a_product("Lamp", stock=2)
    with pytest.raises(Conflict) as refused:
        service.place_order(an_order((mug, 1), (lamp, 3)), customer=JANE)
    assert (refused.value.field, refused.value.message) == ("lines[1].quantity", f"only 2 of {lamp} in stock")
    assert (stock_of(mug), stock_of(lamp)) == (5, 2)
    assert order_items(dynamodb) == []
    assert announced(dynamodb, "OrderPlaced") == []
    assert counted(emitted, "OrdersRefusedForStock") == ("Count", [1])


@given(stocks=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 5)), min_size=1, max_size=4))
@budget(15)
def test_an_order_is_placed_exactly_when_every_line_is_in_stock_and_takes_exactly_its_quantities(
    dynamodb: Any, stocks: list[tuple[int, int]]
) -> None:
    products = [a_product(f"Item {i}", stock=stock) for i, (stock, _) in enumerate(stocks)]
    request = an_order(*[(product, wanted) for product, (_, wanted) in zip(products, stocks, strict=True)])
    if all(wanted <= stock for stock, wanted in stocks):
        order = service.place_order(request, customer=JANE)
        assert [stock_of(p) for p in products] == [stock - wanted for stock, wanted in stocks]
        assert same(service.find(order.order_id), order)
    else:
        first_short = next(i for i, (stock, wanted) in enumerate(stocks) if wanted > stock)
        with pytest.raises(Conflict) as refused:
            service.place_order(request, customer=JANE)
        assert refused.value.field == f"lines[{first_short}].quantity"
        assert [stock_of(p) for p in products] == [stock for stock, _ in stocks]


def test_an_order_id_taken_already_is_never_overwritten(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    taken = uuid.UUID("0b5e7c1a-3f5d-4a8e-9c61-2d4f8e9a7b10")
    # A collision of the orders' ids, on purpose (uuid4 never repeats in practice); events keep their own ids.
    monkeypatch.setattr(service, "uuid", SimpleNamespace(uuid4=lambda: taken))
    mug = a_product(stock=10)
    first = service.place_order(an_order((mug, 1)), customer=JANE)
    with pytest.raises(Conflict):
        service.place_order(an_order((mug, 2)), customer=JOE)
    assert same(service.find(str(taken)), first)
    assert (stock_of(mug), len(announced(dynamodb, "OrderPlaced"))) == (9, 1)


def test_an_unknown_product_is_422_naming_its_line(dynamodb: Any) -> None:
    mug = a_product()
    with pytest.raises(Unprocessable) as refused:
        service.place_order(an_order((mug, 1), ("ghost", 1)), customer=JANE)
    assert (refused.value.field, refused.value.message) == ("lines[1].productId", "no product ghost")
    assert stock_of(mug) == 10


def test_a_product_removed_while_the_order_is_placed_is_422_naming_its_line(dynamodb: Any) -> None:
    mug, lamp = a_product("Mug"), a_product("Lamp")

    def removed(n: int) -> None:
        if n == 0:
            dynamodb.delete_item(TableName=PRODUCTS, Key={"productId": {"S": lamp}})

    calls = before_transactions(removed)
    with pytest.raises(Unprocessable) as refused:
        service.place_order(an_order((mug, 1), (lamp, 1)), customer=JANE)
    assert (refused.value.field, refused.value.message) == ("lines[1].productId", f"no product {lamp}")
    assert len(calls) == 1
    assert (stock_of(mug), order_items(dynamodb)) == (10, [])


def test_stock_sold_to_someone_else_while_the_order_is_placed_is_409(dynamodb: Any) -> None:
    mug = a_product(stock=3)

    def sold(n: int) -> None:
        if n == 0:  # another buyer's order lands between the read and this transaction
            dynamodb.update_item(
                TableName=PRODUCTS,
                Key={"productId": {"S": mug}},
                UpdateExpression="SET stock = :s",
                ExpressionAttributeValues={":s": {"N": "1"}},
            )

    before_transactions(sold)
    with pytest.raises(Conflict) as refused:
        service.place_order(an_order((mug, 2)), customer=JANE)
    assert (refused.value.field, refused.value.message) == ("lines[0].quantity", f"only 1 of {mug} in stock")
    assert stock_of(mug) == 1


def test_a_price_that_moved_while_the_order_was_placed_is_read_again_and_charged(
    dynamodb: Any, sleeps: list[float]
) -> None:
    mug = a_product(amount=1250)
    calls = before_transactions(lambda n: set_price(dynamodb, mug, 1300) if n == 0 else None)
    order = service.place_order(an_order((mug, 2)), customer=JANE)
    assert (order.lines[0].unit_price.amount, order.total.amount) == (1300, 2600)
    assert (len(calls), len(sleeps), stock_of(mug)) == (2, 1, 8)
    assert same(service.find(order.order_id), order)


def test_prices_that_keep_moving_end_in_409_after_five_attempts_and_nothing_is_stored(
    dynamodb: Any, sleeps: list[float]
) -> None:
    mug = a_product(amount=1000)
    calls = before_transactions(lambda n: set_price(dynamodb, mug, 1001 + n))
    with pytest.raises(Conflict) as refused:
        service.place_order(an_order((mug, 1)), customer=JANE)
    assert (refused.value.field, refused.value.message) == ("lines", service.PRODUCTS_CHANGED)
    assert len(calls) == service.PLACING_ATTEMPTS
    assert len(sleeps) == service.PLACING_ATTEMPTS - 1
    assert (stock_of(mug), order_items(dynamodb), announced(dynamodb, "OrderPlaced")) == (10, [], [])


@pytest.mark.parametrize("code", [TRANSACTION_CONFLICT, "ThrottlingError"])
def test_a_transaction_cancelled_for_a_conflict_or_throttle_is_retried_and_the_order_placed_once(
    dynamodb: Any, sleeps: list[float], code: str
) -> None:
    """TransactionCanceledException with TransactionConflict or ThrottlingError reasons: nothing was written and
    the same transaction may pass a moment later ("Cancellation reason codes",
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html). More of them than
    the re-pricing attempts still end in the order, never a 409."""
    mug = a_product(stock=4)
    weather = (
        DynamoDBWeather()
        .script("TransactWriteItems", code, service.PLACING_ATTEMPTS + 1)
        .attach(aws.client("dynamodb"))
    )
    order = service.place_order(an_order((mug, 1)), customer=JANE)
    assert weather.injected == {f"TransactWriteItems {code}": service.PLACING_ATTEMPTS + 1}
    assert len(sleeps) == service.PLACING_ATTEMPTS + 1
    assert all(0 <= wait <= CONFLICT_BACKOFF_MAX_SECONDS for wait in sleeps)  # short jittered waits
    assert (stock_of(mug), [o["orderId"]["S"] for o in order_items(dynamodb)]) == (3, [order.order_id])


def test_conflicts_that_outlast_every_attempt_are_503_with_retry_after_and_nothing_placed(
    dynamodb: Any, sleeps: list[float]
) -> None:
    mug = a_product(stock=4)
    weather = DynamoDBWeather().script("TransactWriteItems", TRANSACTION_CONFLICT, CONFLICT_ATTEMPTS + 1)
    weather.attach(aws.client("dynamodb"))
    with pytest.raises(ServiceUnavailable) as refused:
        service.place_order(an_order((mug, 1)), customer=JANE)
    assert refused.value.message == "the store is busy (TransactionConflict); try again shortly"
    assert refused.value.retry_after == RETRY_AFTER_SECONDS
    assert weather.injected == {"TransactWriteItems TransactionConflict": CONFLICT_ATTEMPTS}
    assert len(sleeps) == CONFLICT_ATTEMPTS - 1
    assert (stock_of(mug), order_items(dynamodb)) == (4, [])


def test_a_conflict_that_meets_short_stock_is_409_not_a_retry(dynamodb: Any, sleeps: list[float]) -> None:
    mug = a_product(stock=1)

    def sold_out(n: int) -> None:
        if n == 0:
            dynamodb.update_item(
                TableName=PRODUCTS,
                Key={"productId": {"S": mug}},
                UpdateExpression="SET stock = :s",
                ExpressionAttributeValues={":s": {"N": "0"}},
            )

    DynamoDBWeather().script("TransactWriteItems", TRANSACTION_CONFLICT).attach(aws.client("dynamodb"))
    before_transactions(sold_out)
    with pytest.raises(Conflict) as refused:
        service.place_order(an_order((mug, 1)), customer=JANE)
    assert refused.value.field == "lines[0].quantity"
    assert sleeps == []


def test_a_retried_request_with_its_idempotency_key_returns_the_first_order_and_reserves_once(dynamodb: Any) -> None:
    mug = a_product(stock=7)
    first = service.place_order(an_order((mug, 2)), customer=JANE, idempotency_key="k-1")
    again = service.place_order(an_order((mug, 2)), customer=JANE, idempotency_key="k-1")
    assert same(again, first)
    assert again.model_dump_json() == first.model_dump_json()  # the replay is the first answer, to the byte
    assert stock_of(mug) == 5
    assert [item["orderId"]["S"] for item in order_items(dynamodb)] == [first.order_id]
    assert len(announced(dynamodb, "OrderPlaced")) == 1
    # The key is the caller's own: another customer's request under the same key is another order.
    other = service.place_order(an_order((mug, 2)), customer=JOE, idempotency_key="k-1")
    assert (other.customer_id, stock_of(mug)) == (JOE.user_id, 3)
    assert other.order_id != first.order_id
    # And the key tells a customer's requests apart: the same order again under a new key is a second order.
    second = service.place_order(an_order((mug, 2)), customer=JANE, idempotency_key="k-2")
    assert (second.order_id != first.order_id, stock_of(mug)) == (True, 1)
    with pytest.raises(Unprocessable):
        service.place_order(an_order((mug, 1)), customer=JANE, idempotency_key="k-1")


# ---------------------------------------------------------------- reading and listing


def test_an_order_is_read_by_its_customer_and_by_who_may_read_any_and_is_404_for_anyone_else(dynamodb: Any) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    assert same(service.get_order(order.order_id, caller=JANE, may_read_any=False), order)
    assert same(service.get_order(order.order_id, caller=JOE, may_read_any=True), order)
    for order_id, caller in [(order.order_id, JOE), ("ghost", JANE)]:
        with pytest.raises(NotFound) as refused:
            service.get_order(order_id, caller=caller, may_read_any=False)
        assert (refused.value.field, refused.value.message) == ("orderId", f"no order {order_id}")
    assert service.find("ghost") is None


def test_an_order_is_read_strongly_consistent(dynamodb: Any) -> None:
    """DynamoDB's default read is eventually consistent ("DynamoDB read consistency") and moto's always current: a
    status change read stale would be refused by the move's condition, so the order's query asks for ConsistentRead."""
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    asked: list[Any] = []
    aws.client("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: asked.append(params.get("ConsistentRead"))
    )
    service.get_order(order.order_id, caller=JANE, may_read_any=False)
    assert asked == [True]


def pages(read: Callable[[str | None], Any], *, bound: int = 20) -> list[list[str]]:
    """Every page's order ids, following the cursors (bounded: a cursor that never ends fails here)."""
    found: list[list[str]] = []
    cursor = None
    for _ in range(bound):
        page = read(cursor)
        found.append([order.order_id for order in page.items])
        if (cursor := page.next_cursor) is None:
            return found
    raise AssertionError("the cursors never ended")


@pytest.mark.usefixtures("clock")
def test_orders_are_listed_newest_first_in_pages_for_their_customer_everyone_or_one_status(dynamodb: Any) -> None:
    mug = a_product(stock=50)
    janes = [service.place_order(an_order((mug, 1)), customer=JANE).order_id for _ in range(3)]
    joes = [service.place_order(an_order((mug, 1)), customer=JOE).order_id for _ in range(2)]
    service.change_status(janes[0], ChangeStatus(status=OrderStatus.CONFIRMED), by=ADMIN_SUB)
    newest_first = [*reversed(joes), *reversed(janes)]

    def listing(caller: Principal, may_read_any: bool, limit: int, **asked: Any) -> list[list[str]]:
        return pages(
            lambda cursor: service.list_orders(
                caller=caller, may_read_any=may_read_any, limit=limit, cursor=cursor, **asked
            )
        )

    assert listing(JANE, False, 2) == [janes[:0:-1], janes[:1]]
    assert listing(JANE, False, 3) == [janes[::-1]]
    assert listing(JANE, False, 5, customer_id=JANE.user_id) == [janes[::-1]]
    assert listing(JANE, False, 2, status=OrderStatus.CONFIRMED) == [janes[:1]]
    assert listing(JANE, False, 1, status=OrderStatus.PLACED) == [[janes[2]], [janes[1]]]
    assert listing(JOE, True, 2) == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert listing(JOE, True, 5, customer_id=JANE.user_id) == [janes[::-1]]
    assert listing(JOE, True, 2, status=OrderStatus.PLACED) == [newest_first[:2], newest_first[2:4]]
    assert listing(JOE, True, 1, status=OrderStatus.CONFIRMED) == [janes[:1]]
    assert listing(JOE, True, 1, status=OrderStatus.CANCELLED) == [[]]
    with pytest.raises(Forbidden) as refused:
        service.list_orders(caller=JANE, may_read_any=False, customer_id=JOE.user_id, limit=5, cursor=None)
    assert (refused.value.field, refused.value.message) == ("customerId", "customers list their own orders only")


@pytest.mark.usefixtures("clock")
def test_a_cursor_is_kept_to_the_listing_it_came_from(dynamodb: Any) -> None:
    mug = a_product(stock=50)
    for customer in (JANE, JANE, JOE, JOE):
        service.place_order(an_order((mug, 1)), customer=customer)
    janes_cursor = service.list_orders(caller=JANE, may_read_any=False, limit=1, cursor=None).next_cursor
    joes_first = service.list_orders(caller=JOE, may_read_any=False, limit=1, cursor=None)
    # Jane's cursor, sent by Joe: his own first page again, nothing of Jane's.
    assert service.list_orders(caller=JOE, may_read_any=False, limit=1, cursor=janes_cursor) == joes_first
    everyones = service.list_orders(caller=JOE, may_read_any=True, limit=1, cursor=None).next_cursor
    for cursor in ("not-a-cursor", everyones):
        with pytest.raises(MalformedRequest) as refused:
            service.list_orders(caller=JANE, may_read_any=False, limit=1, cursor=cursor)
        assert refused.value.field == "cursor"


@pytest.mark.usefixtures("clock")
def test_a_cursor_of_another_status_or_a_forged_entry_starts_the_listing_over(dynamodb: Any) -> None:
    """A cursor names its partition (a status, the entry `order`): sent with another, the listing starts over,
    where DynamoDB would refuse an ExclusiveStartKey outside the query's partition (a 500)."""
    mug = a_product(stock=50)
    placed = [service.place_order(an_order((mug, 1)), customer=JANE).order_id for _ in range(3)]
    for order_id in placed[:2]:
        service.change_status(order_id, ChangeStatus(status=OrderStatus.CONFIRMED), by=ADMIN_SUB)

    def everyones(limit: int, cursor: str | None, status: OrderStatus | None = None) -> list[str]:
        page = service.list_orders(caller=JOE, may_read_any=True, status=status, limit=limit, cursor=cursor)
        return [order.order_id for order in page.items]

    confirmed_cursor = service.list_orders(
        caller=JOE, may_read_any=True, status=OrderStatus.CONFIRMED, limit=1, cursor=None
    ).next_cursor
    assert everyones(1, confirmed_cursor, OrderStatus.PLACED) == [placed[2]]
    forged = encode_cursor(
        {"orderId": {"S": placed[1]}, "entry": {"S": "history#x"}, "placedAt": {"S": "2026-12-07T08:00:03.000+00:00"}}
    )
    assert everyones(2, forged) == placed[:0:-1]


def test_an_allowed_move_is_stored_and_announced_with_who_made_it(
    dynamodb: Any, logs: LogLines, emitted: dict[str, Any]
) -> None:
    placed = service.place_order(an_order((a_product(), 1)), customer=JANE)
    confirmed = service.change_status(placed.order_id, ChangeStatus(status=OrderStatus.CONFIRMED), by=ADMIN_SUB)
    assert (confirmed.status, confirmed.updated_by, confirmed.placed_at) == (
        OrderStatus.CONFIRMED,
        ADMIN_SUB,
        placed.placed_at,
    )
    assert confirmed.updated_at >= placed.updated_at
    assert same(service.find(placed.order_id), confirmed)
    (changed,) = announced(dynamodb, "OrderStatusChanged")
    assert changed["occurredAt"] == confirmed.updated_at
    assert {k: changed["data"][k] for k in ("orderId", "previous", "status", "by")} == {
        "orderId": placed.order_id,
        "previous": "PLACED",
        "status": "CONFIRMED",
        "by": ADMIN_SUB,
    }
    assert counted(emitted, "OrdersConfirmed") == ("Count", [1])
    (line,) = logs.with_message("order status changed")
    assert (line["orderId"], line["from"], line["to"]) == (placed.order_id, "PLACED", "CONFIRMED")


@given(moves=st.lists(st.sampled_from(OrderStatus), min_size=1, max_size=5))
@budget(20)
def test_every_move_the_life_cycle_allows_is_made_and_every_other_is_409_leaving_the_order_as_it_was(
    dynamodb: Any, moves: list[OrderStatus]
) -> None:
    order = service.place_order(an_order((a_product(stock=100), 1)), customer=JANE)
    for status in moves:
        before = service.find(order.order_id)
        assert before is not None
        if status in NEXT_STATUSES[before.status]:
            moved = service.change_status(order.order_id, ChangeStatus(status=status), by=ADMIN_SUB)
            assert same(service.find(order.order_id), moved)
            assert (moved.status, moved.updated_by) == (status, ADMIN_SUB)
        else:
            with pytest.raises(Conflict) as refused:
                service.change_status(order.order_id, ChangeStatus(status=status), by=ADMIN_SUB)
            assert refused.value.field == "status"
            assert same(service.find(order.order_id), before)


def test_a_move_of_an_unknown_order_is_404(dynamodb: Any) -> None:
    with pytest.raises(NotFound) as refused:
        service.change_status("ghost", ChangeStatus(status=OrderStatus.CANCELLED), by=ADMIN_SUB)
    assert (refused.value.field, refused.value.message) == ("orderId", "no order ghost")


def test_a_cancelled_order_puts_its_stock_back_except_for_products_removed_since(dynamodb: Any) -> None:
    mug, lamp = a_product("Mug", stock=5), a_product("Lamp", stock=5)
    order = service.place_order(an_order((mug, 3), (lamp, 2)), customer=JANE)
    catalog.remove_product(lamp)
    cancelled = service.change_status(order.order_id, ChangeStatus(status=OrderStatus.CANCELLED), by=JANE.user_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert stock_of(mug) == 5
    assert "Item" not in dynamodb.get_item(TableName=PRODUCTS, Key={"productId": {"S": lamp}})


def test_an_order_moved_by_someone_else_meanwhile_is_409_and_puts_no_stock_back(dynamodb: Any) -> None:
    mug = a_product(stock=5)
    order = service.place_order(an_order((mug, 2)), customer=JANE)
    before_transactions(lambda n: set_status(dynamodb, order.order_id, OrderStatus.CONFIRMED) if n == 0 else None)
    with pytest.raises(Conflict) as refused:
        service.change_status(order.order_id, ChangeStatus(status=OrderStatus.CANCELLED), by=JANE.user_id)
    assert (refused.value.field, refused.value.message) == (
        "status",
        f"order {order.order_id} changed meanwhile; reload it",
    )
    assert (stock_of(mug), announced(dynamodb, "OrderStatusChanged")) == (3, [])


def test_a_move_whose_transaction_meets_a_conflict_is_sent_again(dynamodb: Any, sleeps: list[float]) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    DynamoDBWeather().script("TransactWriteItems", TRANSACTION_CONFLICT).attach(aws.client("dynamodb"))
    moved = service.change_status(order.order_id, ChangeStatus(status=OrderStatus.CONFIRMED), by=ADMIN_SUB)
    assert same(service.find(order.order_id), moved)
    assert len(announced(dynamodb, "OrderStatusChanged")) == 1


def test_a_product_removed_while_its_order_is_cancelled_gets_nothing_back_and_the_order_is_cancelled(
    dynamodb: Any,
) -> None:
    """The release of a product removed after the products were read cancels the transaction: the cancellation
    reads them again and is made (was an unhandled TransactionCancelled, a 500)."""
    mug, lamp = a_product("Mug", stock=5), a_product("Lamp", stock=5)
    order = service.place_order(an_order((mug, 3), (lamp, 2)), customer=JANE)
    removed = {"TableName": PRODUCTS, "Key": {"productId": {"S": lamp}}}
    calls = before_transactions(lambda n: dynamodb.delete_item(**removed) if n == 0 else None)
    cancelled = service.change_status(order.order_id, ChangeStatus(status=OrderStatus.CANCELLED), by=JANE.user_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert same(service.find(order.order_id), cancelled)
    assert (stock_of(mug), len(calls)) == (5, 2)  # the move the removal cancelled, then the move
    assert len(announced(dynamodb, "OrderStatusChanged")) == 1


def test_a_product_removed_after_every_read_ends_a_cancellation_in_409_and_nothing_moved(dynamodb: Any) -> None:
    """Another admin removes the product after each read and puts it back before the next (the worst timing):
    the cancellation gives up after PLACING_ATTEMPTS with a 409, never a 500, and moves nothing."""
    mug = a_product("Mug", stock=5)
    order = service.place_order(an_order((mug, 3)), customer=JANE)
    (item,) = dynamodb.scan(TableName=PRODUCTS)["Items"]

    def put_back(**_: Any) -> None:
        dynamodb.put_item(TableName=PRODUCTS, Item=item)

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.BatchGetItem", put_back)
    removed = {"TableName": PRODUCTS, "Key": {"productId": {"S": mug}}}
    calls = before_transactions(lambda n: dynamodb.delete_item(**removed))
    with pytest.raises(Conflict) as refused:
        service.change_status(order.order_id, ChangeStatus(status=OrderStatus.CANCELLED), by=JANE.user_id)
    assert (refused.value.field, refused.value.message) == ("status", service.PRODUCTS_CHANGED_ON_MOVE)
    assert same(service.find(order.order_id), order)
    assert (announced(dynamodb, "OrderStatusChanged"), len(calls)) == ([], service.PLACING_ATTEMPTS)


def test_a_move_whose_stock_release_fails_raises_and_writes_nothing(dynamodb: Any) -> None:
    """Only the order's own condition means "changed meanwhile" (False); a stock entry's failure is not the
    order's, and raises."""
    mug = a_product(stock=5)
    order = service.place_order(an_order((mug, 2)), customer=JANE)
    cancelled = order.moved_to(OrderStatus.CANCELLED, by=JANE.user_id, now="2026-12-07T09:00:00.000+00:00")
    repository = OrderRepository(dynamodb, ORDERS, OUTBOX)
    gone = catalog.release_stock("ghost", 2)
    with pytest.raises(TransactionCancelled) as refused:
        repository.move(cancelled, OrderStatus.PLACED, [gone], DomainEvent(type="T", source="s", data={}))
    assert refused.value.failed_conditions == [1]
    assert same(service.find(order.order_id), order)


# ---------------------------------------------------------------- the orders' own reactions


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("AUTO_CONFIRM_LIMIT_CENTS", "5000")
    container.cold_start()
    return 5000


@pytest.mark.parametrize(("amount", "confirmed"), [(2500, True), (2501, False)])
def test_a_placed_order_within_the_limit_is_confirmed_by_the_worker_and_a_larger_one_held(
    dynamodb: Any, limit: int, amount: int, confirmed: bool, logs: LogLines, emitted: dict[str, Any]
) -> None:
    order = service.place_order(an_order((a_product(amount=amount), 2)), customer=JANE)
    service.react(event_of(dynamodb, "OrderPlaced", order.order_id))
    after = service.find(order.order_id)
    assert after is not None
    if confirmed:
        assert (after.status, after.updated_by) == (OrderStatus.CONFIRMED, service.ORDER_WORKER)
        assert "OrdersHeldForReview" not in emitted
    else:
        assert (after.status, after.updated_by) == (OrderStatus.PLACED, JANE.user_id)
        assert counted(emitted, "OrdersHeldForReview") == ("Count", [1])
        (line,) = logs.with_message("order held for review")
        assert (line["orderId"], line["total"]) == (order.order_id, 5002)


def test_a_redelivered_or_unknown_placement_confirms_nothing_again(dynamodb: Any) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    placed = event_of(dynamodb, "OrderPlaced", order.order_id)
    service.confirm_placed_order(placed)
    service.change_status(order.order_id, ChangeStatus(status=OrderStatus.SHIPPED), by=ADMIN_SUB)
    service.confirm_placed_order(placed)
    service.confirm_placed_order(DomainEvent(type="OrderPlaced", source="orders", data={"orderId": "ghost"}))
    assert [e["data"]["status"] for e in announced(dynamodb, "OrderStatusChanged")] == ["CONFIRMED", "SHIPPED"]
    assert order_items(dynamodb)[0]["orderId"]["S"] == order.order_id
    assert len(order_items(dynamodb)) == 1


def test_an_order_cancelled_before_the_worker_confirms_it_stays_cancelled(dynamodb: Any, logs: LogLines) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    before_transactions(lambda n: set_status(dynamodb, order.order_id, OrderStatus.CANCELLED) if n == 0 else None)
    service.confirm_placed_order(event_of(dynamodb, "OrderPlaced", order.order_id))
    after = service.find(order.order_id)
    assert after is not None
    assert after.status is OrderStatus.CANCELLED
    assert [line["orderId"] for line in logs.with_message("order moved on before confirmation")] == [order.order_id]


def test_the_history_keeps_each_status_once_with_who_and_when_however_often_events_arrive(
    dynamodb: Any, logs: LogLines
) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    service.change_status(order.order_id, ChangeStatus(status=OrderStatus.CANCELLED), by=ADMIN_SUB)
    placed = event_of(dynamodb, "OrderPlaced", order.order_id)
    changed = event_of(dynamodb, "OrderStatusChanged", order.order_id)
    for event in (changed, placed, placed, changed, placed):  # out of order, again and again
        service.record_history(event)
    history = service.get_order(order.order_id, caller=JANE, may_read_any=False).history
    assert [(c.status, c.previous, c.by, c.at, c.event_id) for c in history] == [
        (OrderStatus.PLACED, None, JANE.user_id, placed.occurred_at, placed.id),
        (OrderStatus.CANCELLED, OrderStatus.PLACED, ADMIN_SUB, changed.occurred_at, changed.id),
    ]
    redelivered = [line["eventId"] for line in logs.with_message("history entry already recorded")]
    assert redelivered == [placed.id, changed.id, placed.id]


def test_its_customer_sees_who_moved_the_order_as_a_role_never_an_admins_sub(dynamodb: Any) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    service.react(event_of(dynamodb, "OrderPlaced", order.order_id))  # confirmed by the worker
    service.change_status(order.order_id, ChangeStatus(status=OrderStatus.SHIPPED), by=ADMIN_SUB)
    for event in announced(dynamodb, "OrderStatusChanged"):
        service.react(DomainEvent.from_json(json.dumps(event)))
    admins_view = service.get_order(order.order_id, caller=JOE, may_read_any=True)
    assert [change.by for change in admins_view.history] == [JANE.user_id, service.ORDER_WORKER, ADMIN_SUB]
    seen = service.get_order(order.order_id, caller=JANE, may_read_any=False).seen_by_its_customer()
    assert (seen.updated_by, [change.by for change in seen.history]) == ("admin", [JANE.user_id, "system", "admin"])
    assert ADMIN_SUB not in seen.model_dump_json()


def test_a_history_entry_that_meets_a_transaction_on_its_order_is_written_again(dynamodb: Any) -> None:
    """A PutItem on an item an ongoing transaction holds is refused with TransactionConflictException, which
    botocore does not retry ("Transaction conflict handling in DynamoDB")."""
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    weather = DynamoDBWeather().script("PutItem", TRANSACTION_CONFLICT_EXCEPTION, table=ORDERS)
    weather.attach(aws.client("dynamodb"))
    service.record_history(event_of(dynamodb, "OrderPlaced", order.order_id))
    assert weather.injected == {"PutItem TransactionConflictException": 1}
    assert [c.status for c in service.find(order.order_id).history] == [OrderStatus.PLACED]  # type: ignore[union-attr]


def invoicing_event(kind: str, order_id: str, number: str) -> DomainEvent:
    key = "invoiceNumber" if kind == INVOICE_ISSUED else "creditNoteNumber"
    return DomainEvent(
        type=kind,
        source="invoicing",
        data={"orderId": order_id, key: number, "issuedAt": "2026-12-07T10:00:00.000+00:00"},
    )


def test_the_invoice_and_credit_note_issued_are_shown_on_their_order_once_whatever_the_redeliveries(
    dynamodb: Any, logs: LogLines
) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    for event in [invoicing_event(INVOICE_ISSUED, order.order_id, "INV-2026-000001")] * 2:
        service.react(event)
    assert logs.with_message("invoice for an unknown order") == []
    shown = service.find(order.order_id)
    assert shown is not None
    assert shown.credit_note is None
    assert (shown.invoice.number, shown.invoice.issued_at) == ("INV-2026-000001", "2026-12-07T10:00:00.000+00:00")  # type: ignore[union-attr]
    weather = DynamoDBWeather().script("UpdateItem", TRANSACTION_CONFLICT_EXCEPTION).attach(aws.client("dynamodb"))
    service.react(invoicing_event(CREDIT_NOTE_ISSUED, order.order_id, "CN-2026-000001"))
    assert weather.injected == {"UpdateItem TransactionConflictException": 1}
    assert logs.with_message("credit note for an unknown order") == []
    credited = service.find(order.order_id)
    assert credited is not None
    assert credited.invoice == shown.invoice
    assert (credited.credit_note.number, credited.credit_note.issued_at) == (  # type: ignore[union-attr]
        "CN-2026-000001",
        "2026-12-07T10:00:00.000+00:00",
    )
    listed = service.list_orders(caller=JANE, may_read_any=False, limit=5, cursor=None).items
    assert [o.model_dump() for o in listed] == [credited.model_copy(update={"history": []}).model_dump()]


@pytest.mark.parametrize(
    ("kind", "message"),
    [(INVOICE_ISSUED, "invoice for an unknown order"), (CREDIT_NOTE_ISSUED, "credit note for an unknown order")],
)
def test_a_document_for_an_unknown_order_creates_no_order_and_is_logged(
    dynamodb: Any, logs: LogLines, kind: str, message: str
) -> None:
    service.react(invoicing_event(kind, "ghost", "N-1"))
    assert order_items(dynamodb) == []
    assert [line["orderId"] for line in logs.with_message(message)] == ["ghost"]


def test_an_event_no_reaction_listens_to_changes_nothing(dynamodb: Any) -> None:
    order = service.place_order(an_order((a_product(), 1)), customer=JANE)
    service.react(DomainEvent(type="ProductChanged", source="catalog", data={"orderId": order.order_id}))
    assert same(service.find(order.order_id), order)


@pytest.mark.parametrize(("status", "stage"), [("PLACED", 0), ("CONFIRMED", 1), ("SHIPPED", 2), ("CANCELLED", 3)])
def test_the_life_cycle_stage_of_a_status(status: str, stage: int) -> None:
    assert service.life_cycle_stage(status) == stage
