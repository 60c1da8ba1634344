"""The order's rules without AWS: pricing from the catalog and the life cycle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from dropshop.catalog.model import Money, Price, Product
from dropshop.orders.model import (
    NEXT_STATUSES,
    STAFF_ROLE,
    SYSTEM_ACTORS,
    SYSTEM_ROLE,
    Order,
    OrderStatus,
    PlaceOrder,
    StatusChange,
)
from dropshop.orders.service import ORDER_WORKER
from dropshop.platform.errors import Conflict, Unprocessable

NOW = "2026-11-25T10:00:00.000+00:00"


def product(product_id: str, amount: int, currency: str = "EUR") -> Product:
    return Product(
        product_id=product_id,
        name=product_id.title(),
        category="kitchen",
        price=Price(amount=amount, currency=currency),
        stock=5,
        created_at=NOW,
        updated_at=NOW,
    )


def order_for(lines: list[tuple[str, int]], catalog: dict[str, Product]) -> Order:
    request = PlaceOrder.model_validate({"lines": [{"productId": p, "quantity": q} for p, q in lines]})
    return Order.priced(order_id="o-1", customer_id="c-1", request=request, catalog=catalog, now=NOW)


def test_lines_and_total_are_priced_from_the_catalog() -> None:
    order = order_for([("mug", 3), ("lamp", 1)], {"mug": product("mug", 1250), "lamp": product("lamp", 4999)})
    assert [line.total.amount for line in order.lines] == [3750, 4999]
    assert order.total == Money(amount=8749, currency="EUR")
    assert order.status is OrderStatus.PLACED


def test_an_unknown_product_names_its_line() -> None:
    with pytest.raises(Unprocessable) as refused:
        order_for([("mug", 1), ("ghost", 1)], {"mug": product("mug", 1250)})
    assert refused.value.field == "lines[1].productId"


def test_one_order_has_one_currency() -> None:
    with pytest.raises(Unprocessable) as refused:
        order_for([("mug", 1), ("lamp", 1)], {"mug": product("mug", 1250), "lamp": product("lamp", 10, "USD")})
    assert refused.value.field == "lines"


def test_a_product_on_two_lines_is_refused() -> None:
    with pytest.raises(ValidationError):
        PlaceOrder.model_validate({"lines": [{"productId": "mug", "quantity": 1}, {"productId": "mug", "quantity": 2}]})


@pytest.mark.parametrize("current", list(OrderStatus))
@pytest.mark.parametrize("target", list(OrderStatus))
def test_the_life_cycle_allows_exactly_its_moves(current: OrderStatus, target: OrderStatus) -> None:
    order = order_for([("mug", 1)], {"mug": product("mug", 1250)}).model_copy(update={"status": current})
    if target in NEXT_STATUSES[current]:
        moved = order.moved_to(target, by="admin", now=NOW)
        assert moved.status is target
        assert moved.updated_by == "admin"
    else:
        with pytest.raises(Conflict):
            order.moved_to(target, by="admin", now=NOW)


def test_finished_orders_go_nowhere_and_shipped_ones_cannot_be_cancelled() -> None:
    assert NEXT_STATUSES[OrderStatus.DELIVERED] == frozenset()
    assert NEXT_STATUSES[OrderStatus.CANCELLED] == frozenset()
    assert OrderStatus.CANCELLED not in NEXT_STATUSES[OrderStatus.SHIPPED]


def test_every_move_of_the_life_cycle_goes_to_a_later_stage() -> None:
    """Status pushes drop a change whose stage is not later than one pushed: that needs every move to go forward."""
    from dropshop.orders.model import LIFE_CYCLE_STAGES, NEXT_STATUSES

    assert set(LIFE_CYCLE_STAGES) == set(NEXT_STATUSES)
    for status, following in NEXT_STATUSES.items():
        for later in following:
            assert LIFE_CYCLE_STAGES[later] > LIFE_CYCLE_STAGES[status], (status, later)


def with_history(customer_id: str, actors: list[str]) -> Order:
    placed = order_for([("mug", 1)], {"mug": product("mug", 1250)}).model_copy(update={"customer_id": customer_id})
    changes = [
        StatusChange(status=OrderStatus.CONFIRMED, previous=OrderStatus.PLACED, at="t", by=actor, event_id=f"e-{i}")
        for i, actor in enumerate(actors)
    ]
    return placed.model_copy(update={"updated_by": actors[-1], "history": changes})


@given(customer=st.uuids().map(str), staff=st.lists(st.uuids().map(str), min_size=1, max_size=4), data=st.data())
def test_its_customer_sees_who_acted_as_themselves_a_role_or_the_system_never_a_staff_id(
    customer: str, staff: list[str], data: st.DataObject
) -> None:
    actors = data.draw(st.lists(st.sampled_from([customer, *staff, *SYSTEM_ACTORS]), min_size=1, max_size=6))
    order = with_history(customer, actors)
    seen = order.seen_by_its_customer()
    expected = [a if a == customer else SYSTEM_ROLE if a in SYSTEM_ACTORS else STAFF_ROLE for a in actors]
    assert [change.by for change in seen.history] == expected
    assert seen.updated_by == expected[-1]
    shown = seen.model_dump_json(by_alias=True)
    assert not any(member in shown for member in staff if member != customer)
    assert order.history[-1].by == actors[-1]  # the order itself, as admins read it, still says who


def test_the_order_worker_is_a_system_actor() -> None:
    assert ORDER_WORKER in SYSTEM_ACTORS


def test_refusals_say_which_product_and_which_currencies() -> None:
    """The 422's message is what the customer reads: the unknown product, the currencies that do not mix."""
    with pytest.raises(Unprocessable) as unknown:
        order_for([("ghost", 1)], {"mug": product("mug", 1250)})
    assert unknown.value.message == "no product ghost"
    with pytest.raises(Unprocessable) as mixed:
        order_for([("mug", 1), ("lamp", 1)], {"mug": product("mug", 1250), "lamp": product("lamp", 10, "USD")})
    assert mixed.value.message == "one order, one currency: these lines mix ['EUR', 'USD']"


def test_a_forbidden_move_is_a_409_on_status_naming_both_statuses() -> None:
    order = order_for([("mug", 1)], {"mug": product("mug", 1250)}).model_copy(update={"status": OrderStatus.SHIPPED})
    with pytest.raises(Conflict) as refused:
        order.moved_to(OrderStatus.CANCELLED, by="admin", now=NOW)
    assert refused.value.as_body() == {
        "error": "conflict",
        "message": "an order that is SHIPPED cannot become CANCELLED",
        "field": "status",
    }


def test_a_move_stamps_who_and_when_and_leaves_the_history_to_its_event() -> None:
    """The moved order is what PUT status answers: its history entries are written from the move's event (the
    order worker's `record_history`), so the answer carries none rather than a stale list without the move."""
    placed = with_history("c-1", ["c-1"])
    moved = placed.moved_to(OrderStatus.CONFIRMED, by="admin-sub", now="2026-11-26T09:00:00.000+00:00")
    assert (moved.status, moved.updated_at, moved.updated_by) == (
        OrderStatus.CONFIRMED,
        "2026-11-26T09:00:00.000+00:00",
        "admin-sub",
    )
    assert moved.history == []
    assert (moved.placed_at, moved.lines, moved.total) == (placed.placed_at, placed.lines, placed.total)
    assert placed.status is OrderStatus.PLACED  # the order it moved from is unchanged


def test_a_page_of_orders_shows_each_to_its_customer_without_staff_ids() -> None:
    from dropshop.orders.model import OrderPage

    orders = [with_history("c-1", ["c-1", "admin-sub"]), with_history("c-1", ["c-1", ORDER_WORKER])]
    page = OrderPage(items=orders, next_cursor="next").seen_by_their_customer()
    assert [[change.by for change in order.history] for order in page.items] == [
        ["c-1", STAFF_ROLE],
        ["c-1", SYSTEM_ROLE],
    ]
    assert [order.updated_by for order in page.items] == [STAFF_ROLE, SYSTEM_ROLE]
    assert page.next_cursor == "next"
    assert "admin-sub" not in page.model_dump_json(by_alias=True)
