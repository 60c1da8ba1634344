"""Invoices and credit notes. Each is a snapshot: it keeps the lines, prices, VAT rates and buyer as they were
when it was issued, and is never changed after. A cancelled invoiced order is corrected by a credit note that
refers to the invoice and repeats its lines with negative amounts."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from dropshop.catalog import vat
from dropshop.catalog.currencies import format_amount
from dropshop.catalog.model import MINOR_UNIT, Currency, Money
from dropshop.identity.model import Contact
from dropshop.orders.model import Order
from dropshop.platform.model import ApiModel

INVOICE_PREFIX = "DS"
CREDIT_NOTE_PREFIX = "CN"
LARGEST = 100_000_000 * 100 * 25  # a document's largest total: 25 lines of 100 at the catalog's top price


def document_number(prefix: str, year: int, sequence: int) -> str:
    """DS-2026-000042: the series, the year, the year's sequence zero-padded so numbers sort as issued."""
    return f"{prefix}-{year}-{sequence:06d}"


def invoice_number(year: int, sequence: int) -> str:
    return document_number(INVOICE_PREFIX, year, sequence)


def credit_note_number(year: int, sequence: int) -> str:
    return document_number(CREDIT_NOTE_PREFIX, year, sequence)


class Amount(ApiModel):
    """Minor units, signed: an invoice charges (positive), a credit note gives back (negative)."""

    amount: int = Field(ge=-LARGEST, le=LARGEST, description=MINOR_UNIT)
    currency: Currency

    @classmethod
    def of(cls, money: Money) -> Amount:
        return cls(amount=money.amount, currency=money.currency)

    def negated(self) -> Amount:
        return Amount(amount=-self.amount, currency=self.currency)

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)


class DocumentLine(ApiModel):
    description: str
    quantity: int
    unit_price: Amount
    total: Amount
    vat_rate: vat.VatRate

    @model_validator(mode="before")
    @classmethod
    def issued_before_vat_rates(cls, line: Any) -> Any:
        """Invoices stored before lines carried their rate sold everything at the standard rate."""
        if isinstance(line, dict) and "vatRate" not in line and "vat_rate" not in line:
            return line | {"vatRate": vat.rate(vat.VatCategory.STANDARD)}
        return line


class VatRow(ApiModel):
    """What a document sold at one VAT rate: net + VAT = gross, to the currency's minor unit."""

    rate: vat.VatRate
    net: Amount
    vat: Amount
    gross: Amount


class TaxDocument(ApiModel):
    """What invoices and credit notes share: a number in their own gapless yearly series, the buyer, the lines."""

    number: str
    year: int
    sequence: int
    order_id: str
    customer_id: str
    customer_name: str | None
    customer_email: str | None
    issued_at: str
    lines: list[DocumentLine]
    total: Amount
    # True once the PDF is stored and the document's event is on its way; a redelivered event stops there.
    issued: bool = False

    TITLE: ClassVar[str]  # as the PDF heads it
    FOLDER: ClassVar[str]  # the bucket's key prefix for this kind

    @property
    def document_key(self) -> str:
        return f"{self.FOLDER}/{self.year}/{self.number}.pdf"

    @property
    def vat_breakdown(self) -> list[VatRow]:
        """Per rate, highest first; the one rounding rule is dropshop/catalog/vat.py's."""
        currency = self.total.currency
        rows = vat.breakdown((line.vat_rate, line.total.amount) for line in self.lines)
        return [
            VatRow(
                rate=row.rate,
                net=Amount(amount=row.net, currency=currency),
                vat=Amount(amount=row.vat, currency=currency),
                gross=Amount(amount=row.gross, currency=currency),
            )
            for row in rows
        ]

    @property
    def net_total(self) -> Amount:
        return Amount(amount=sum(row.net.amount for row in self.vat_breakdown), currency=self.total.currency)

    @property
    def vat_total(self) -> Amount:
        return Amount(amount=sum(row.vat.amount for row in self.vat_breakdown), currency=self.total.currency)


class Invoice(TaxDocument):
    TITLE: ClassVar[str] = "Invoice"
    FOLDER: ClassVar[str] = "invoices"

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
                DocumentLine(
                    description=line.name,
                    quantity=line.quantity,
                    unit_price=Amount.of(line.unit_price),
                    total=Amount.of(line.total),
                    vat_rate=line.vat_rate,
                )
                for line in order.lines
            ],
            total=Amount.of(order.total),
        )


class CreditNote(TaxDocument):
    """Cancels an invoice: the same lines, buyer and rates, every amount negated."""

    invoice_number: str
    invoice_issued_at: str

    TITLE: ClassVar[str] = "Credit note"
    FOLDER: ClassVar[str] = "credit-notes"

    @classmethod
    def for_invoice(cls, invoice: Invoice, *, year: int, sequence: int, now: str) -> CreditNote:
        return cls(
            number=credit_note_number(year, sequence),
            year=year,
            sequence=sequence,
            order_id=invoice.order_id,
            customer_id=invoice.customer_id,
            customer_name=invoice.customer_name,
            customer_email=invoice.customer_email,
            issued_at=now,
            lines=[
                line.model_copy(update={"unit_price": line.unit_price.negated(), "total": line.total.negated()})
                for line in invoice.lines
            ],
            total=invoice.total.negated(),
            invoice_number=invoice.number,
            invoice_issued_at=invoice.issued_at,
        )


class InvoiceLink(ApiModel):
    """A short-lived link to the invoice's PDF (S3 presigned GET)."""

    number: str
    url: str
    expires_at: str


class CreditNoteLink(InvoiceLink):
    """A short-lived link to the credit note's PDF (S3 presigned GET)."""
