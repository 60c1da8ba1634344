"""The invoices bucket: one PDF per invoice (versioned, encrypted, private), handed out by presigned links."""

from __future__ import annotations

from typing import Any

from dropshop.invoicing.model import Invoice


class InvoiceDocuments:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def store(self, invoice: Invoice, pdf: bytes) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=invoice.document_key,
            Body=pdf,
            ContentType="application/pdf",
            ContentDisposition=f'inline; filename="{invoice.number}.pdf"',
            Metadata={"order-id": invoice.order_id, "invoice-number": invoice.number},
        )

    def link(self, invoice: Invoice, *, seconds: int) -> str:
        """A GET link valid for `seconds`, signed with this function's own (read-only) permissions."""
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": invoice.document_key}, ExpiresIn=seconds
        )
        return url
