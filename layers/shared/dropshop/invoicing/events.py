"""What the invoicing context announces; the event catalogue in docs/commerce.md lists who listens."""

from __future__ import annotations

from dropshop.invoicing.model import CreditNote, Invoice
from dropshop.platform.bus import DomainEvent

SOURCE = "invoicing"
INVOICE_ISSUED = "InvoiceIssued"
CREDIT_NOTE_ISSUED = "CreditNoteIssued"


def invoice_issued(invoice: Invoice) -> DomainEvent:
    return DomainEvent(
        type=INVOICE_ISSUED,
        source=SOURCE,
        data={
            "orderId": invoice.order_id,
            "customerId": invoice.customer_id,
            "invoiceNumber": invoice.number,
            "issuedAt": invoice.issued_at,
            "total": invoice.total.model_dump(mode="json"),
            "documentKey": invoice.document_key,
        },
        occurred_at=invoice.issued_at,
    )


def credit_note_issued(note: CreditNote) -> DomainEvent:
    return DomainEvent(
        type=CREDIT_NOTE_ISSUED,
        source=SOURCE,
        data={
            "orderId": note.order_id,
            "customerId": note.customer_id,
            "creditNoteNumber": note.number,
            "invoiceNumber": note.invoice_number,
            "issuedAt": note.issued_at,
            "total": note.total.model_dump(mode="json"),  # negative: what the customer is credited
            "documentKey": note.document_key,
        },
        occurred_at=note.issued_at,
    )
