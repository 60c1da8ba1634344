"""What the orders context announces; the event catalogue in docs/commerce.md lists who listens."""

from __future__ import annotations

from dropshop.orders.model import Order, OrderStatus
from dropshop.platform.bus import DomainEvent

SOURCE = "orders"
ORDER_PLACED = "OrderPlaced"
ORDER_STATUS_CHANGED = "OrderStatusChanged"


def order_placed(order: Order) -> DomainEvent:
    return DomainEvent(
        type=ORDER_PLACED,
        source=SOURCE,
        data=order.model_dump(mode="json", exclude={"history", "invoice", "credit_note"}),
        occurred_at=order.placed_at,
    )


def order_status_changed(order: Order, previous: OrderStatus) -> DomainEvent:
    return DomainEvent(
        type=ORDER_STATUS_CHANGED,
        source=SOURCE,
        data={
            "orderId": order.order_id,
            "customerId": order.customer_id,
            "previous": previous.value,
            "status": order.status.value,
            "by": order.updated_by,
            "total": order.total.model_dump(mode="json"),
        },
        occurred_at=order.updated_at,
    )
