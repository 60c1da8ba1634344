"""The invoices bucket: one PDF per invoice (`invoices/`) and per credit note (`credit-notes/`), versioned,
encrypted, private, handed out by presigned links."""

from __future__ import annotations

from typing import Any

from dropshop.invoicing.model import CreditNote, TaxDocument


class InvoiceDocuments:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def store(self, document: TaxDocument, pdf: bytes) -> None:
        metadata = {"order-id": document.order_id}
        if isinstance(document, CreditNote):
            metadata |= {"credit-note-number": document.number, "invoice-number": document.invoice_number}
        else:
            metadata |= {"invoice-number": document.number}
        self._s3.put_object(
            Bucket=self._bucket,
            Key=document.document_key,
            Body=pdf,
            ContentType="application/pdf",
            ContentDisposition=f'inline; filename="{document.number}.pdf"',
            Metadata=metadata,
        )

    def link(self, document: TaxDocument, *, seconds: int) -> str:
        """A GET link valid for `seconds`, signed with this function's own (read-only) permissions."""
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": document.document_key}, ExpiresIn=seconds
        )
        return url
