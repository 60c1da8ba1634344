"""Invoice and credit note PDFs, read back with pypdf: every figure printed with its currency's decimals and
equal, to the minor unit, to the document's."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdf
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.catalog.currencies import CURRENCIES
from dropshop.invoicing.model import CreditNote, TaxDocument
from handlers.invoice.invoice_pdf import render
from tests.support.amounts import amounts_in
from tests.support.properties import budget
from tests.unit.test_invoice_model import NOW, an_invoice, line_amounts

# One currency of each ISO 4217 exponent (0, 2, 3, 4) first, so shrinking lands on them; then any.
currencies = st.sampled_from(["JPY", "EUR", "KWD", "CLF", *sorted(CURRENCIES)])
LARGEST_BASKET = [(Decimal("23"), 100_000_000, 100)] * 25  # the top price, quantity and line count


def printed_amounts(document: TaxDocument) -> list[tuple[int, str]]:
    reader = pypdf.PdfReader(io.BytesIO(render(document)))
    return amounts_in(" ".join(page.extract_text() for page in reader.pages))


def document_amounts(document: TaxDocument) -> list[tuple[int, str]]:
    """In the order the PDF prints them: each line's unit price and total, each VAT row, then the totals."""
    figures = [amount for line in document.lines for amount in (line.unit_price, line.total)]
    figures += [amount for row in document.vat_breakdown for amount in (row.net, row.vat, row.gross)]
    figures += [document.net_total, document.vat_total, document.total]
    return [(amount.amount, amount.currency) for amount in figures]


def test_a_yen_invoice_prints_whole_yen_and_a_dinar_invoice_prints_fils() -> None:
    basket = [(Decimal("23"), 1250, 3)]
    yen = pypdf.PdfReader(io.BytesIO(render(an_invoice(basket, "JPY")))).pages[0].extract_text()
    assert "x 3 23 % 1,250 JPY 3,750 JPY" in yen
    assert "23 % 3,049 JPY 701 JPY 3,750 JPY" in yen
    assert "Total 3,750 JPY" in yen
    dinar = pypdf.PdfReader(io.BytesIO(render(an_invoice(basket, "KWD")))).pages[0].extract_text()
    assert "x 3 23 % 1.250 KWD 3.750 KWD" in dinar
    assert "23 % 3.049 KWD 0.701 KWD 3.750 KWD" in dinar


@budget(30)  # a render and a read take ~75 ms
@given(lines=st.lists(line_amounts, min_size=1, max_size=6), currency=currencies)
@example(lines=LARGEST_BASKET, currency="CLF")
@example(lines=LARGEST_BASKET, currency="JPY")
@example(lines=[(Decimal("9"), 1, 1)], currency="KWD")
def test_every_figure_on_an_invoice_and_its_credit_note_is_printed_exactly_in_its_currency(
    lines: list[tuple[Decimal, int, int]], currency: str
) -> None:
    invoice = an_invoice(lines, currency)
    note = CreditNote.for_invoice(invoice, year=2026, sequence=1, now=NOW)
    for document in (invoice, note):
        assert printed_amounts(document) == document_amounts(document)
