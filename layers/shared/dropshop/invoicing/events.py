"""What the invoicing context announces; the README's event catalogue lists who listens."""

from __future__ import annotations

from dropshop.invoicing.model import Invoice
from dropshop.platform.bus import DomainEvent

SOURCE = "invoicing"
INVOICE_ISSUED = "InvoiceIssued"


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
