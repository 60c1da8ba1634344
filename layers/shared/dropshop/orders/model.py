"""Orders and their life cycle. An order's lines are priced from the catalog, never from the client."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, StrictInt, field_validator, model_validator

from dropshop.catalog import vat
from dropshop.catalog.model import Money, Product, ProductId
from dropshop.platform.errors import Conflict, Unprocessable
from dropshop.platform.model import ApiModel

MAX_LINES = 25  # one transaction: a stock update per line, the order and its event stay within 100 items

# Who moved an order, as its customer sees it: their own actions under their id, the shop's under a role,
# never a staff member's Cognito `sub` (an identifier of theirs a customer has no business holding).
SYSTEM_ACTORS = frozenset({"order-worker"})  # the shop's own workers (orders.service.ORDER_WORKER)
SYSTEM_ROLE = "system"
STAFF_ROLE = "admin"


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


# The life cycle. Cancelling puts the stock back, so it ends where goods have not left yet.
NEXT_STATUSES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# How far along the life cycle a status is: every move goes to a later stage (tests/unit/test_order_model.py
# checks it against NEXT_STATUSES), so of two statuses of one order, the later stage is the newer one whatever
# order their events arrive in. DELIVERED and CANCELLED share the last stage: an order reaches only one of them.
LIFE_CYCLE_STAGES: dict[OrderStatus, int] = {
    OrderStatus.PLACED: 0,
    OrderStatus.CONFIRMED: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.DELIVERED: 3,
    OrderStatus.CANCELLED: 3,
}


class LineRequest(ApiModel):
    product_id: ProductId
    quantity: StrictInt = Field(ge=1, le=100)


class PlaceOrder(ApiModel):
    """What a customer sends: which products, how many. Prices come from the catalog."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lines": [{"productId": "demo-desk-lamp", "quantity": 1}]}]}
    )

    lines: list[LineRequest] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("lines")
    @classmethod
    def each_product_once(cls, lines: list[LineRequest]) -> list[LineRequest]:
        ids = [line.product_id for line in lines]
        if len(set(ids)) != len(ids):
            raise ValueError("each product may appear on one line only")
        return lines


class ChangeStatus(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "SHIPPED"}]})

    status: OrderStatus


class OrderLine(ApiModel):
    product_id: str
    name: str
    quantity: int
    unit_price: Money
    total: Money
    # The product's VAT as it was when the order was placed: its invoice never follows a later rate change.
    vat_category: vat.VatCategory
    vat_rate: vat.VatRate

    @model_validator(mode="before")
    @classmethod
    def placed_before_vat_rates(cls, line: Any) -> Any:
        """Lines stored before orders recorded VAT were all sold at the standard rate."""
        if isinstance(line, dict) and "vatRate" not in line and "vat_rate" not in line:
            return {"vatCategory": vat.VatCategory.STANDARD, "vatRate": vat.rate(vat.VatCategory.STANDARD)} | line
        return line


class StatusChange(ApiModel):
    status: OrderStatus
    previous: OrderStatus | None
    at: str
    by: str
    event_id: str


class InvoiceSummary(ApiModel):
    """The order's invoice as the order shows it; the PDF is at GET /orders/{orderId}/invoice."""

    number: str
    issued_at: str


class CreditNoteSummary(ApiModel):
    """The credit note of a cancelled invoiced order; the PDF is at GET /orders/{orderId}/credit-note."""

    number: str
    issued_at: str


class Order(ApiModel):
    order_id: str
    customer_id: str
    status: OrderStatus
    lines: list[OrderLine]
    total: Money
    placed_at: str
    updated_at: str
    updated_by: str
    invoice: InvoiceSummary | None = None
    credit_note: CreditNoteSummary | None = None
    history: list[StatusChange] = Field(default_factory=list)

    @classmethod
    def priced(
        cls, *, order_id: str, customer_id: str, request: PlaceOrder, catalog: dict[str, Product], now: str
    ) -> Order:
        """A new order at the catalog's current prices; 422 naming the line when a product is unknown."""
        lines = []
        for index, wanted in enumerate(request.lines):
            product = catalog.get(wanted.product_id)
            if product is None:
                raise Unprocessable(f"no product {wanted.product_id}", field=f"lines[{index}].productId")
            lines.append(
                OrderLine(
                    product_id=product.product_id,
                    name=product.name,
                    quantity=wanted.quantity,
                    unit_price=product.price,
                    total=product.price.times(wanted.quantity),
                    vat_category=product.vat_category,
                    vat_rate=vat.rate(product.vat_category),
                )
            )
        currencies = {line.unit_price.currency for line in lines}
        if len(currencies) > 1:
            raise Unprocessable(f"one order, one currency: these lines mix {sorted(currencies)}", field="lines")
        total = Money(amount=sum(line.total.amount for line in lines), currency=currencies.pop())
        return cls(
            order_id=order_id,
            customer_id=customer_id,
            status=OrderStatus.PLACED,
            lines=lines,
            total=total,
            placed_at=now,
            updated_at=now,
            updated_by=customer_id,
        )

    def seen_by_its_customer(self) -> Order:
        """The order as its customer may see it: who acted is the customer, "system" or "admin"."""

        def role(actor: str) -> str:
            if actor == self.customer_id:
                return actor
            return SYSTEM_ROLE if actor in SYSTEM_ACTORS else STAFF_ROLE

        history = [change.model_copy(update={"by": role(change.by)}) for change in self.history]
        return self.model_copy(update={"updated_by": role(self.updated_by), "history": history})

    def moved_to(self, status: OrderStatus, *, by: str, now: str) -> Order:
        """The order in its next status; 409 naming `status` when the life cycle does not allow the move."""
        if status not in NEXT_STATUSES[self.status]:
            raise Conflict(f"an order that is {self.status} cannot become {status}", field="status")
        return self.model_copy(update={"status": status, "updated_at": now, "updated_by": by, "history": []})


class OrderPage(ApiModel):
    items: list[Order]
    next_cursor: str | None = None

    def seen_by_their_customer(self) -> OrderPage:
        return self.model_copy(update={"items": [order.seen_by_its_customer() for order in self.items]})
