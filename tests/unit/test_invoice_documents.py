"""The invoices bucket as InvoiceDocuments writes and links it, against moto's S3: one PDF per document under its
kind's folder, served inline under its number, tagged with the order and document numbers, and a presigned GET
that expires when asked and opens that object only."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from moto import mock_aws

from dropshop.invoicing.documents import InvoiceDocuments
from dropshop.invoicing.model import Amount, CreditNote, DocumentLine, Invoice

BUCKET = "dropshop-invoices"
NOW = "2026-11-25T10:00:00.000+00:00"
PDF = b"%PDF-1.7\n% an invoice\n%%EOF\n"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1", config=Config(signature_version="s3v4"))
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def an_invoice() -> Invoice:
    price = Amount(amount=1250, currency="EUR")
    line = DocumentLine(description="Enamel mug", quantity=1, unit_price=price, total=price, vat_rate=Decimal("23"))
    return Invoice(
        number="DS-2026-000042",
        year=2026,
        sequence=42,
        order_id="o-1",
        customer_id="c-1",
        customer_name=None,
        customer_email=None,
        issued_at=NOW,
        lines=[line],
        total=price,
    )


def test_an_invoice_is_stored_as_an_inline_pdf_tagged_with_its_order_and_number(s3: Any) -> None:
    InvoiceDocuments(s3, BUCKET).store(an_invoice(), PDF)
    stored = s3.get_object(Bucket=BUCKET, Key="invoices/2026/DS-2026-000042.pdf")
    assert stored["Body"].read() == PDF
    assert stored["ContentType"] == "application/pdf"
    assert stored["ContentDisposition"] == 'inline; filename="DS-2026-000042.pdf"'
    assert stored["Metadata"] == {"order-id": "o-1", "invoice-number": "DS-2026-000042"}


def test_a_credit_note_is_tagged_with_its_own_number_and_the_invoice_it_cancels(s3: Any) -> None:
    note = CreditNote.for_invoice(an_invoice(), year=2027, sequence=3, now=NOW)
    InvoiceDocuments(s3, BUCKET).store(note, PDF)
    stored = s3.get_object(Bucket=BUCKET, Key="credit-notes/2027/CN-2027-000003.pdf")
    assert stored["Body"].read() == PDF
    assert stored["ContentType"] == "application/pdf"
    assert stored["ContentDisposition"] == 'inline; filename="CN-2027-000003.pdf"'
    assert stored["Metadata"] == {
        "order-id": "o-1",
        "credit-note-number": "CN-2027-000003",
        "invoice-number": "DS-2026-000042",
    }


@pytest.mark.parametrize("seconds", [60, 300])
def test_a_link_gets_that_documents_pdf_and_expires_after_the_seconds_asked(s3: Any, seconds: int) -> None:
    documents = InvoiceDocuments(s3, BUCKET)
    invoice = an_invoice()
    note = CreditNote.for_invoice(invoice, year=2027, sequence=3, now=NOW)
    documents.store(invoice, PDF)
    documents.store(note, b"%PDF-1.7\n% a credit note\n%%EOF\n")
    url = documents.link(invoice, seconds=seconds)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(seconds)]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    fetched = requests.get(url, timeout=10)
    assert (fetched.status_code, fetched.content) == (200, PDF)
