"""Use cases of the orders context: place, read and move orders along their life cycle, and react to
the orders' own events (confirm what passes the checks, keep the history)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from dropshop.catalog import service as catalog
from dropshop.catalog.model import Product
from dropshop.identity.model import Principal
from dropshop.invoicing.events import CREDIT_NOTE_ISSUED, INVOICE_ISSUED
from dropshop.orders.events import ORDER_PLACED, ORDER_STATUS_CHANGED, order_placed, order_status_changed
from dropshop.orders.model import (
    LIFE_CYCLE_STAGES,
    ChangeStatus,
    CreditNoteSummary,
    InvoiceSummary,
    Order,
    OrderPage,
    OrderStatus,
    PlaceOrder,
    StatusChange,
)
from dropshop.orders.repository import OrderRepository
from dropshop.platform import aws, dynamodb, idempotency
from dropshop.platform.bus import DomainEvent
from dropshop.platform.clock import now_iso
from dropshop.platform.dynamodb import TransactionCancelled
from dropshop.platform.errors import Conflict, Forbidden, NotFound, Unprocessable
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

# A transaction whose condition failed for no reason the order can name (a price or VAT category that moved
# meanwhile) is re-priced and retried, backing off, this many times at most.
PLACING_ATTEMPTS = 5
PRODUCTS_CHANGED = "the products changed while the order was placed; try again"
PRODUCTS_CHANGED_ON_MOVE = "the order's products changed while its status was changed; try again"
ORDER_WORKER = "order-worker"


def _orders() -> OrderRepository:
    s = settings()
    return OrderRepository(aws.client("dynamodb"), s.orders_table, s.outbox_table)


# ---------------------------------------------------------------- the API's use cases


def place_order(request: PlaceOrder, *, customer: Principal, idempotency_key: str | None = None) -> Order:
    """Price the lines from the catalog and reserve their stock in the order's own transaction: concurrent
    orders can never oversell. With an idempotency key (its form checked by the route), a retry returns the
    first order and reserves nothing."""
    if idempotency_key is None:
        return _place(request, customer.user_id)

    def place_once(payload: dict[str, Any]) -> dict[str, Any]:
        return _place(PlaceOrder.model_validate(payload), customer.user_id).model_dump(mode="json")

    placed = idempotency.once(
        place_once, caller=customer.user_id, key=idempotency_key, payload=request.model_dump(mode="json")
    )
    return Order.model_validate(placed)


def _place(request: PlaceOrder, customer_id: str) -> Order:
    """Every cancelled attempt reads the products again: the order is refused (409) as soon as a line's stock is
    short, and otherwise re-priced and retried. Concurrent buyers of one product cancel each other's transactions
    (TransactionConflict) or meet a throttle; those are retried with short jittered waits, and a 503 (Retry-After)
    answers one that outlasts them, never a 409 while stock remains."""
    order_id = str(uuid.uuid4())
    wanted = [line.product_id for line in request.lines]
    products = catalog.current(wanted)
    repriced = 0
    for attempt in range(dynamodb.CONFLICT_ATTEMPTS):
        if attempt:
            time.sleep(dynamodb.conflict_backoff(attempt))
        order = Order.priced(
            order_id=order_id, customer_id=customer_id, request=request, catalog=products, now=now_iso()
        )
        stock_moves = [
            catalog.reserve_stock(line.product_id, line.quantity, line.unit_price, line.vat_category)
            for line in order.lines
        ]
        try:
            _orders().add(order, stock_moves, order_placed(order))
        except TransactionCancelled as cancelled:
            products = catalog.current(wanted)  # what the next attempt is priced from, too
            _explain_refusal(request, products)  # raises for missing products and short stock
            if not cancelled.transient:
                repriced += 1
                if repriced == PLACING_ATTEMPTS:
                    raise Conflict(PRODUCTS_CHANGED, field="lines") from None
            continue
        metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
        logger.info("order placed", extra={"orderId": order.order_id, "total": order.total.model_dump()})
        return order
    raise dynamodb.unavailable("TransactionConflict")


def _explain_refusal(request: PlaceOrder, products: dict[str, Product]) -> None:
    for index, line in enumerate(request.lines):
        product = products.get(line.product_id)
        if product is None:
            raise Unprocessable(f"no product {line.product_id}", field=f"lines[{index}].productId")
        if product.stock < line.quantity:
            metrics.add_metric(name="OrdersRefusedForStock", unit=MetricUnit.Count, value=1)
            raise Conflict(f"only {product.stock} of {line.product_id} in stock", field=f"lines[{index}].quantity")


def life_cycle_stage(status: str) -> int:
    """How far along its life cycle an order in `status` is: a later stage is always a newer status."""
    return LIFE_CYCLE_STAGES[OrderStatus(status)]


def get_order(order_id: str, *, caller: Principal, may_read_any: bool) -> Order:
    """The order if the caller owns it or may read any; someone else's order is not found (404), not 403."""
    order = _orders().get(order_id)
    if order is None or (order.customer_id != caller.user_id and not may_read_any):
        raise NotFound(f"no order {order_id}", field="orderId")
    return order


def find(order_id: str) -> Order | None:
    """The order, for other contexts that act on it (invoicing); callers are checked by `get_order`."""
    return _orders().get(order_id)


def list_orders(
    *,
    caller: Principal,
    may_read_any: bool,
    status: OrderStatus | None = None,
    customer_id: str | None = None,
    limit: int,
    cursor: str | None,
) -> OrderPage:
    """Orders newest first: a customer's own, or for those who may read any, everyone's or one customer's."""
    if not may_read_any and customer_id not in (None, caller.user_id):
        raise Forbidden("customers list their own orders only", field="customerId")
    if may_read_any and customer_id is None:
        orders, next_cursor = _orders().page_all(status=status, limit=limit, cursor=cursor)
    else:
        whose = customer_id or caller.user_id
        orders, next_cursor = _orders().page_for(whose, status=status, limit=limit, cursor=cursor)
    return OrderPage(items=orders, next_cursor=next_cursor)


def change_status(order_id: str, change: ChangeStatus, *, by: str) -> Order:
    """Move the order to its next status (409 if the life cycle forbids it); cancelling puts stock back."""
    current = _orders().get(order_id)
    if current is None:
        raise NotFound(f"no order {order_id}", field="orderId")
    return _move(current, change.status, by=by)


def _move(current: Order, status: OrderStatus, *, by: str) -> Order:
    """A cancellation puts stock back into the products still sold; one removed between that read and the
    transaction cancels it (its release's condition), so the products are read again and the move sent again."""
    order = current.moved_to(status, by=by, now=now_iso())
    for _ in range(PLACING_ATTEMPTS):
        stock_moves = []
        if status is OrderStatus.CANCELLED:
            still_sold = catalog.current([line.product_id for line in order.lines])  # removed products get nothing
            stock_moves = [
                catalog.release_stock(line.product_id, line.quantity)
                for line in order.lines
                if line.product_id in still_sold
            ]
        try:
            moved = _orders().move(order, current.status, stock_moves, order_status_changed(order, current.status))
        except TransactionCancelled:
            continue
        break
    else:
        raise Conflict(PRODUCTS_CHANGED_ON_MOVE, field="status")
    if not moved:
        raise Conflict(f"order {order.order_id} changed meanwhile; reload it", field="status")
    metrics.add_metric(name=f"Orders{status.value.title()}", unit=MetricUnit.Count, value=1)
    logger.info("order status changed", extra={"orderId": order.order_id, "from": current.status, "to": status})
    return order


# ---------------------------------------------------------------- reactions to the orders' own events


def confirm_placed_order(event: DomainEvent) -> None:
    """Confirm a placed order whose total is within the automatic limit; larger ones wait for an admin.
    A redelivered event finds the order no longer PLACED and does nothing."""
    order = _orders().get(event.data["orderId"])
    if order is None or order.status is not OrderStatus.PLACED:
        return
    if order.total.amount > settings().auto_confirm_limit_cents:
        metrics.add_metric(name="OrdersHeldForReview", unit=MetricUnit.Count, value=1)
        logger.info("order held for review", extra={"orderId": order.order_id, "total": order.total.amount})
        return
    try:
        _move(order, OrderStatus.CONFIRMED, by=ORDER_WORKER)
    except Conflict:
        logger.info("order moved on before confirmation", extra={"orderId": order.order_id})


def record_history(event: DomainEvent) -> None:
    """Keep every status an order reached, once per event however often the event arrives."""
    data = event.data
    previous = data.get("previous")
    change = StatusChange(
        status=OrderStatus(data["status"]),
        previous=OrderStatus(previous) if previous else None,
        at=event.occurred_at,
        by=data.get("by") or data["updatedBy"],  # OrderStatusChanged says `by`; OrderPlaced is the whole order
        event_id=event.id,
    )
    if not _orders().record(data["orderId"], change):
        logger.info("history entry already recorded", extra={"eventId": event.id})


def attach_invoice(event: DomainEvent) -> None:
    """Show the issued invoice on its order (setting the same number again is harmless)."""
    invoice = InvoiceSummary(number=event.data["invoiceNumber"], issued_at=event.data["issuedAt"])
    if not _orders().attach_invoice(event.data["orderId"], invoice):
        logger.warning("invoice for an unknown order", extra={"orderId": event.data["orderId"]})


def attach_credit_note(event: DomainEvent) -> None:
    """Show the issued credit note on its order (setting the same number again is harmless)."""
    note = CreditNoteSummary(number=event.data["creditNoteNumber"], issued_at=event.data["issuedAt"])
    if not _orders().attach_credit_note(event.data["orderId"], note):
        logger.warning("credit note for an unknown order", extra={"orderId": event.data["orderId"]})


REACTIONS = {
    ORDER_PLACED: [record_history, confirm_placed_order],
    ORDER_STATUS_CHANGED: [record_history],
    INVOICE_ISSUED: [attach_invoice],
    CREDIT_NOTE_ISSUED: [attach_credit_note],
}


def react(event: DomainEvent) -> None:
    """Run every reaction to `event`; each is idempotent, so a redelivered event changes nothing."""
    for reaction in REACTIONS.get(event.type, []):
        reaction(event)
