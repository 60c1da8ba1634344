"""Invoices. An invoice is a snapshot: it keeps the lines, prices and buyer as they were when it was issued."""

from __future__ import annotations

from dropshop.catalog.model import Money
from dropshop.identity.model import Contact
from dropshop.orders.model import Order
from dropshop.platform.model import ApiModel

NUMBER_PREFIX = "DS"


def invoice_number(year: int, sequence: int) -> str:
    """DS-2026-000042: the year's sequence, zero-padded so numbers sort as they were issued."""
    return f"{NUMBER_PREFIX}-{year}-{sequence:06d}"


class InvoiceLine(ApiModel):
    description: str
    quantity: int
    unit_price: Money
    total: Money


class Invoice(ApiModel):
    number: str
    year: int
    sequence: int
    order_id: str
    customer_id: str
    customer_name: str | None
    customer_email: str | None
    issued_at: str
    lines: list[InvoiceLine]
    total: Money
    # True once the PDF is stored and InvoiceIssued is on its way; a redelivered event stops there.
    issued: bool = False

    @property
    def document_key(self) -> str:
        return f"invoices/{self.year}/{self.number}.pdf"

    @classmethod
    def for_order(cls, order: Order, buyer: Contact | None, *, year: int, sequence: int, now: str) -> Invoice:
        return cls(
            number=invoice_number(year, sequence),
            year=year,
            sequence=sequence,
            order_id=order.order_id,
            customer_id=order.customer_id,
            customer_name=buyer.name if buyer else None,
            customer_email=buyer.email if buyer else None,
            issued_at=now,
            lines=[
                InvoiceLine(description=line.name, quantity=line.quantity, unit_price=line.unit_price, total=line.total)
                for line in order.lines
            ],
            total=order.total,
        )


class InvoiceLink(ApiModel):
    """A short-lived link to the invoice's PDF (S3 presigned GET)."""

    number: str
    url: str
    expires_at: str
