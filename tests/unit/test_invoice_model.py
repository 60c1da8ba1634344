"""Invoices and credit notes without AWS: their numbers, the snapshot they keep, and how amounts print."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.catalog.currencies import CURRENCIES, MINOR_UNITS
from dropshop.catalog.model import Money
from dropshop.catalog.vat import VatCategory
from dropshop.identity.model import Contact
from dropshop.invoicing.model import Amount, CreditNote, DocumentLine, Invoice, credit_note_number, invoice_number
from dropshop.orders.model import Order, OrderLine, OrderStatus
from tests.support.amounts import minor_units

NOW = "2026-11-25T10:00:00.000+00:00"


def confirmed_order(currency: str = "EUR") -> Order:
    price = Money(amount=1250, currency=currency)
    line = OrderLine(
        product_id="mug",
        name="Enamel mug",
        quantity=3,
        unit_price=price,
        total=price.times(3),
        vat_category=VatCategory.STANDARD,
        vat_rate=Decimal("23"),
    )
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


def test_credit_notes_have_their_own_series() -> None:
    assert credit_note_number(2026, 3) == "CN-2026-000003"


def test_amounts_print_in_major_units_with_the_currency() -> None:
    assert str(Money(amount=5, currency="EUR")) == "0.05 EUR"
    assert str(Money(amount=123_456_78, currency="USD")) == "123,456.78 USD"
    assert str(Amount(amount=-5, currency="EUR")) == "-0.05 EUR"
    assert str(Amount(amount=-123_456_78, currency="EUR")) == "-123,456.78 EUR"
    assert str(Amount(amount=0, currency="EUR")) == "0.00 EUR"
    assert str(Money(amount=1000, currency="JPY")) == "1,000 JPY"
    assert str(Amount(amount=-1234, currency="KWD")) == "-1.234 KWD"


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


def test_an_invoice_shows_vat_per_rate_and_its_totals() -> None:
    invoice = Invoice.for_order(confirmed_order(), None, year=2026, sequence=1, now=NOW)
    ((row),) = invoice.vat_breakdown
    assert (row.rate, str(row.net), str(row.vat), str(row.gross)) == (
        Decimal("23"),
        "30.49 EUR",
        "7.01 EUR",
        "37.50 EUR",
    )
    assert (str(invoice.net_total), str(invoice.vat_total), str(invoice.total)) == (
        "30.49 EUR",
        "7.01 EUR",
        "37.50 EUR",
    )


def test_a_credit_note_refers_to_its_invoice_and_negates_every_amount() -> None:
    invoice = Invoice.for_order(confirmed_order(), None, year=2026, sequence=9, now=NOW)
    note = CreditNote.for_invoice(invoice, year=2027, sequence=1, now="2027-01-02T08:00:00.000+00:00")
    assert (note.number, note.document_key) == ("CN-2027-000001", "credit-notes/2027/CN-2027-000001.pdf")
    assert (note.invoice_number, note.invoice_issued_at) == ("DS-2026-000009", NOW)
    assert [(line.quantity, str(line.unit_price), str(line.total)) for line in note.lines] == [
        (3, "-12.50 EUR", "-37.50 EUR")
    ]
    assert [(str(r.net), str(r.vat), str(r.gross)) for r in note.vat_breakdown] == [
        ("-30.49 EUR", "-7.01 EUR", "-37.50 EUR")
    ]


def an_invoice(lines: list[tuple[Decimal, int, int]], currency: str) -> Invoice:
    document_lines = [
        DocumentLine(
            description="x",
            quantity=quantity,
            unit_price=Amount(amount=price, currency=currency),
            total=Amount(amount=price * quantity, currency=currency),
            vat_rate=rate,
        )
        for rate, price, quantity in lines
    ]
    total = Amount(amount=sum(line.total.amount for line in document_lines), currency=currency)
    return Invoice(
        number="DS-2026-000001",
        year=2026,
        sequence=1,
        order_id="o",
        customer_id="c",
        customer_name=None,
        customer_email=None,
        issued_at=NOW,
        lines=document_lines,
        total=total,
    )


line_amounts = st.tuples(
    st.sampled_from([Decimal("23"), Decimal("13.5"), Decimal("9"), Decimal("0")]),
    st.integers(min_value=0, max_value=100_000_000),
    st.integers(min_value=1, max_value=100),
)


@given(lines=st.lists(line_amounts, min_size=1, max_size=25))
def test_any_invoice_and_its_credit_note_add_up_and_cancel_out_to_the_cent(
    lines: list[tuple[Decimal, int, int]],
) -> None:
    invoice = an_invoice(lines, "EUR")
    note = CreditNote.for_invoice(invoice, year=2026, sequence=1, now=NOW)
    for document in (invoice, note):
        assert document.net_total.amount + document.vat_total.amount == document.total.amount
        assert sum(row.gross.amount for row in document.vat_breakdown) == document.total.amount
    assert note.total.amount == -invoice.total.amount
    assert [(r.net.amount, r.vat.amount) for r in note.vat_breakdown] == [
        (-r.net.amount, -r.vat.amount) for r in invoice.vat_breakdown
    ]


def test_a_yen_invoice_has_no_decimals_and_its_vat_is_rounded_to_the_yen() -> None:
    invoice = Invoice.for_order(confirmed_order("JPY"), None, year=2026, sequence=1, now=NOW)
    # 3,750 JPY at 23 %: 3750 * 100 / 123 = 3048.78 -> 3,049 JPY net, 701 JPY VAT
    ((row),) = invoice.vat_breakdown
    assert (str(row.net), str(row.vat), str(row.gross)) == ("3,049 JPY", "701 JPY", "3,750 JPY")
    assert [(str(line.unit_price), str(line.total)) for line in invoice.lines] == [("1,250 JPY", "3,750 JPY")]


def test_a_dinar_invoice_has_three_decimals_and_its_vat_is_rounded_to_the_fils() -> None:
    invoice = Invoice.for_order(confirmed_order("KWD"), None, year=2026, sequence=1, now=NOW)
    ((row),) = invoice.vat_breakdown
    assert (str(row.net), str(row.vat), str(row.gross)) == ("3.049 KWD", "0.701 KWD", "3.750 KWD")


# One currency of each ISO 4217 exponent first, so shrinking lands on them; then any.
currencies = st.sampled_from(["JPY", "EUR", "KWD", "CLF", *sorted(CURRENCIES)])


@given(lines=st.lists(line_amounts, min_size=1, max_size=25), currency=currencies)
@example(lines=[(Decimal("23"), 100_000_000, 100)] * 25, currency="CLF")
@example(lines=[(Decimal("13.5"), 1, 1)], currency="JPY")
@example(lines=[(Decimal("9"), 1, 1)], currency="KWD")
def test_in_every_currency_the_printed_vat_rows_add_up_and_round_to_its_minor_unit(
    lines: list[tuple[Decimal, int, int]], currency: str
) -> None:
    invoice = an_invoice(lines, currency)
    for document in (invoice, CreditNote.for_invoice(invoice, year=2026, sequence=1, now=NOW)):
        unit = Decimal(1).scaleb(-MINOR_UNITS[currency])  # the minor unit in major units: 1 JPY, 0.001 KWD
        for row in document.vat_breakdown:
            (net, _), (vat_amount, _), (gross, _) = (minor_units(str(a)) for a in (row.net, row.vat, row.gross))
            assert net + vat_amount == gross == row.gross.amount
            exact_net = Decimal(gross) * unit * 100 / (100 + row.rate)  # in major units, unrounded
            assert abs(Decimal(net) * unit - exact_net) <= unit / 2
        printed = [minor_units(str(a))[0] for a in (document.net_total, document.vat_total, document.total)]
        assert printed[0] + printed[1] == printed[2] == document.total.amount


def test_lines_stored_before_vat_rates_read_as_sold_at_the_standard_rate() -> None:
    stored = {
        "productId": "mug",
        "name": "Enamel mug",
        "quantity": 1,
        "unitPrice": {"amount": 1250, "currency": "EUR"},
        "total": {"amount": 1250, "currency": "EUR"},
    }
    order_line = OrderLine.model_validate(stored)
    assert (order_line.vat_category, order_line.vat_rate) == (VatCategory.STANDARD, Decimal("23"))
    invoice_line = DocumentLine.model_validate(
        {"description": "Enamel mug", "quantity": 1, "unitPrice": stored["unitPrice"], "total": stored["total"]}
    )
    assert invoice_line.vat_rate == Decimal("23")


def test_each_document_line_keeps_the_vat_rate_its_order_line_was_sold_at() -> None:
    order = confirmed_order()
    reduced = order.lines[0].model_copy(update={"vat_category": VatCategory.REDUCED, "vat_rate": Decimal("13.5")})
    order = order.model_copy(update={"lines": [*order.lines, reduced], "total": Money(amount=7500, currency="EUR")})
    invoice = Invoice.for_order(order, None, year=2026, sequence=1, now=NOW)
    note = CreditNote.for_invoice(invoice, year=2026, sequence=1, now=NOW)
    assert [line.vat_rate for line in invoice.lines] == [Decimal("23"), Decimal("13.5")]
    assert [line.vat_rate for line in note.lines] == [Decimal("23"), Decimal("13.5")]
    assert [row.rate for row in invoice.vat_breakdown] == [Decimal("23"), Decimal("13.5")]


def test_a_credit_note_names_the_buyer_its_invoice_named() -> None:
    buyer = Contact(user_id="c-1", email="jane@example.com", name="Jane", email_verified=True)
    invoice = Invoice.for_order(confirmed_order(), buyer, year=2026, sequence=1, now=NOW)
    note = CreditNote.for_invoice(invoice, year=2026, sequence=1, now=NOW)
    assert (note.customer_id, note.customer_name, note.customer_email) == ("c-1", "Jane", "jane@example.com")
