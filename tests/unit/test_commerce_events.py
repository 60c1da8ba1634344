"""The commerce contexts' events carry exactly the payload docs/commerce.md's event catalogue lists, under the
envelope consumers read (type, source, occurredAt), and survive the trip through the outbox's JSON."""

from __future__ import annotations

from decimal import Decimal

from dropshop.catalog.events import Change, product_changed
from dropshop.catalog.model import Price, Product
from dropshop.catalog.vat import VatCategory
from dropshop.invoicing.events import credit_note_issued, invoice_issued
from dropshop.invoicing.model import CreditNote, Invoice
from dropshop.orders.events import order_placed, order_status_changed
from dropshop.orders.model import CreditNoteSummary, InvoiceSummary, Order, OrderLine, OrderStatus, StatusChange
from dropshop.platform.bus import DomainEvent

PLACED_AT = "2026-11-25T10:00:00.000+00:00"
MOVED_AT = "2026-11-26T09:30:00.000+00:00"
ISSUED_AT = "2026-11-27T08:15:00.000+00:00"
PRICE = {"amount": 1250, "currency": "EUR"}


def an_order(status: OrderStatus = OrderStatus.PLACED, *, updated_by: str = "c-1") -> Order:
    line = OrderLine.model_validate(
        {
            "productId": "mug",
            "name": "Enamel mug",
            "quantity": 2,
            "unitPrice": PRICE,
            "total": {"amount": 2500, "currency": "EUR"},
            "vatCategory": "reduced",
            "vatRate": "13.5",
        }
    )
    return Order(
        order_id="o-1",
        customer_id="c-1",
        status=status,
        lines=[line],
        total=line.total,
        placed_at=PLACED_AT,
        updated_at=MOVED_AT if status is not OrderStatus.PLACED else PLACED_AT,
        updated_by=updated_by,
        # What only the order's own table holds: never part of an event.
        invoice=InvoiceSummary(number="DS-2026-000001", issued_at=ISSUED_AT),
        credit_note=CreditNoteSummary(number="CN-2026-000001", issued_at=ISSUED_AT),
        history=[StatusChange(status=status, previous=None, at=PLACED_AT, by="c-1", event_id="e-0")],
    )


def relayed(event: DomainEvent) -> DomainEvent:
    """The event as a consumer reads it from its queue."""
    return DomainEvent.from_json(event.to_json())


def test_order_placed_is_the_order_without_its_history_invoice_or_credit_note() -> None:
    event = relayed(order_placed(an_order()))
    assert (event.type, event.source, event.occurred_at) == ("OrderPlaced", "orders", PLACED_AT)
    assert event.data == {
        "orderId": "o-1",
        "customerId": "c-1",
        "status": "PLACED",
        "lines": [
            {
                "productId": "mug",
                "name": "Enamel mug",
                "quantity": 2,
                "unitPrice": PRICE,
                "total": {"amount": 2500, "currency": "EUR"},
                "vatCategory": "reduced",
                "vatRate": "13.5",
            }
        ],
        "total": {"amount": 2500, "currency": "EUR"},
        "placedAt": PLACED_AT,
        "updatedAt": PLACED_AT,
        "updatedBy": "c-1",
    }
    # Its lines read back as the order's own (the notification e-mail lists them).
    assert OrderLine.model_validate(event.data["lines"][0]).vat_rate == Decimal("13.5")


def test_order_status_changed_says_from_what_to_what_by_whom_and_when() -> None:
    event = relayed(order_status_changed(an_order(OrderStatus.SHIPPED, updated_by="admin-sub"), OrderStatus.CONFIRMED))
    assert (event.type, event.source, event.occurred_at) == ("OrderStatusChanged", "orders", MOVED_AT)
    assert event.data == {
        "orderId": "o-1",
        "customerId": "c-1",
        "previous": "CONFIRMED",
        "status": "SHIPPED",
        "by": "admin-sub",
        "total": {"amount": 2500, "currency": "EUR"},
    }


def test_invoice_issued_names_the_invoice_its_total_and_where_its_pdf_is() -> None:
    invoice = Invoice.for_order(an_order(OrderStatus.CONFIRMED), None, year=2026, sequence=42, now=ISSUED_AT)
    event = relayed(invoice_issued(invoice))
    assert (event.type, event.source, event.occurred_at) == ("InvoiceIssued", "invoicing", ISSUED_AT)
    assert event.data == {
        "orderId": "o-1",
        "customerId": "c-1",
        "invoiceNumber": "DS-2026-000042",
        "issuedAt": ISSUED_AT,
        "total": {"amount": 2500, "currency": "EUR"},
        "documentKey": "invoices/2026/DS-2026-000042.pdf",
    }


def test_credit_note_issued_names_both_documents_and_a_negative_total() -> None:
    invoice = Invoice.for_order(an_order(OrderStatus.CONFIRMED), None, year=2026, sequence=42, now=ISSUED_AT)
    note = CreditNote.for_invoice(invoice, year=2027, sequence=3, now=MOVED_AT)
    event = relayed(credit_note_issued(note))
    assert (event.type, event.source, event.occurred_at) == ("CreditNoteIssued", "invoicing", MOVED_AT)
    assert event.data == {
        "orderId": "o-1",
        "customerId": "c-1",
        "creditNoteNumber": "CN-2027-000003",
        "invoiceNumber": "DS-2026-000042",
        "issuedAt": MOVED_AT,
        "total": {"amount": -2500, "currency": "EUR"},
        "documentKey": "credit-notes/2027/CN-2027-000003.pdf",
    }


def test_product_changed_says_what_changed_and_carries_the_product() -> None:
    product = Product(
        product_id="mug",
        name="Enamel mug",
        category="kitchen",
        price=Price.model_validate(PRICE),
        stock=40,
        vat_category=VatCategory.ZERO,
        created_at=PLACED_AT,
        updated_at=MOVED_AT,
    )
    for change, said in ((Change.CREATED, "created"), (Change.UPDATED, "updated"), (Change.DELETED, "deleted")):
        event = relayed(product_changed(product, change))
        assert (event.type, event.source) == ("ProductChanged", "catalog")
        assert event.data == {
            "change": said,
            "product": {
                "productId": "mug",
                "name": "Enamel mug",
                "description": "",
                "category": "kitchen",
                "price": PRICE,
                "stock": 40,
                "vatCategory": "zero",
                "createdAt": PLACED_AT,
                "updatedAt": MOVED_AT,
            },
        }
