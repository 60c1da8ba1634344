"""Invoices without AWS: their numbers, the snapshot they keep, and how amounts print."""

from __future__ import annotations

from dropshop.catalog.model import Money
from dropshop.identity.model import Contact
from dropshop.invoicing.model import Invoice, invoice_number
from dropshop.orders.model import Order, OrderLine, OrderStatus

NOW = "2026-11-25T10:00:00.000+00:00"


def confirmed_order() -> Order:
    price = Money(amount=1250, currency="EUR")
    line = OrderLine(product_id="mug", name="Enamel mug", quantity=3, unit_price=price, total=price.times(3))
    return Order(
        order_id="o-1",
        customer_id="c-1",
        status=OrderStatus.CONFIRMED,
        lines=[line],
        total=line.total,
        placed_at=NOW,
        updated_at=NOW,
        updated_by="order-worker",
    )


def test_numbers_carry_the_year_and_a_zero_padded_sequence_so_they_sort_as_issued() -> None:
    assert invoice_number(2026, 42) == "DS-2026-000042"
    assert sorted([invoice_number(2026, 10), invoice_number(2026, 9)]) == ["DS-2026-000009", "DS-2026-000010"]


def test_amounts_print_in_major_units_with_the_currency() -> None:
    assert str(Money(amount=5, currency="EUR")) == "0.05 EUR"
    assert str(Money(amount=123_456_78, currency="USD")) == "123,456.78 USD"


def test_an_invoice_keeps_the_orders_lines_and_the_buyer_as_they_were() -> None:
    buyer = Contact(user_id="c-1", email="jane@example.com", name="Jane", email_verified=True)
    invoice = Invoice.for_order(confirmed_order(), buyer, year=2026, sequence=7, now=NOW)
    assert (invoice.number, invoice.document_key) == ("DS-2026-000007", "invoices/2026/DS-2026-000007.pdf")
    assert (invoice.customer_name, invoice.customer_email) == ("Jane", "jane@example.com")
    assert [(line.description, line.quantity, str(line.total)) for line in invoice.lines] == [
        ("Enamel mug", 3, "37.50 EUR")
    ]
    assert str(invoice.total) == "37.50 EUR"
    assert invoice.issued is False


def test_a_buyer_gone_from_the_directory_still_gets_an_invoice() -> None:
    invoice = Invoice.for_order(confirmed_order(), None, year=2026, sequence=1, now=NOW)
    assert (invoice.customer_name, invoice.customer_email, invoice.customer_id) == (None, None, "c-1")
