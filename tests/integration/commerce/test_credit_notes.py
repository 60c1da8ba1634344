"""Credit notes: a cancelled invoiced order gets one, numbered CN-<year>-<n> in its own gapless series, with the
invoice's lines and VAT negated, a PDF beside the invoice, the order showing it, a link for its owner and an
e-mail; once, whatever the order of events, their redelivery or their concurrency. Through the template's
wiring on moto's server."""

from __future__ import annotations

import io
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pypdf
import pytest

from dropshop.invoicing import service as invoicing
from dropshop.invoicing.model import Invoice, TaxDocument
from dropshop.platform.errors import Conflict
from handlers.invoice.invoice_pdf import render
from tests.integration.commerce.conftest import Shop
from tests.integration.commerce.test_invoices import HELD, place_mixed_basket
from tests.support.ses import SentEmail, sent_emails

YEAR = datetime.now(UTC).year


def credit_note_item(shop: Shop, order_id: str) -> dict[str, Any] | None:
    return shop.item("InvoicesTable", id=f"credit-note#{order_id}")


def credit_note_counter(shop: Shop) -> int:
    item = shop.item("InvoicesTable", id=f"credit-note-counter#{YEAR}")
    return int(item["last"]["N"]) if item else 0


def pdf_lines(shop: Shop, key: str) -> list[str]:
    body = shop.stack.client("s3").get_object(Bucket=shop.stack.physical["InvoicesBucket"], Key=key)["Body"].read()
    return str(pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()).splitlines()


def move(shop: Shop, order_id: str, status: str) -> None:
    answer = shop.call("PUT", f"/orders/{order_id}/status", as_user="admin", body={"status": status})
    assert answer[0] == 200, answer


def status_event(shop: Shop, order_id: str, status: str) -> dict[str, Any]:
    """The order's OrderStatusChanged to `status` from the outbox, as an SQS batch delivering it once more."""
    outbox = shop.stack.client("dynamodb").scan(TableName=shop.stack.physical["OutboxTable"])["Items"]
    events = [json.loads(item["event"]["S"]) for item in outbox if item["eventType"]["S"] == "OrderStatusChanged"]
    (event,) = [e for e in events if e["data"]["orderId"] == order_id and e["data"]["status"] == status]
    return {"Records": [{"messageId": "redelivered", "body": json.dumps(event), "eventSource": "aws:sqs"}]}


def credit_note_emails(shop: Shop, order_id: str) -> list[SentEmail]:
    assert shop.stack.endpoint_url is not None
    reference = order_id.split("-")[0].upper()
    return [m for m in sent_emails(shop.stack.endpoint_url) if m.subject.endswith(f"for your order {reference}")]


def invoiced_then_cancelled(shop: Shop) -> dict[str, Any]:
    order = shop.place_order(shop.add_product(name="Enamel mug", amount=1250), 3)
    shop.settle()
    assert shop.order(order["orderId"])["invoice"]
    move(shop, order["orderId"], "CANCELLED")
    shop.settle()
    return order


def test_cancelling_an_invoiced_order_issues_a_credit_note_that_negates_every_figure(shop: Shop) -> None:
    order = place_mixed_basket(shop)
    shop.settle()
    invoice = shop.order(order["orderId"])["invoice"]
    move(shop, order["orderId"], "CANCELLED")
    shop.settle()

    shown = shop.order(order["orderId"])
    assert shown["status"] == "CANCELLED"
    assert shown["invoice"] == invoice  # the invoice stands; the credit note corrects it
    number = shown["creditNote"]["number"]
    assert number == f"CN-{YEAR}-{credit_note_counter(shop):06d}"
    key = f"credit-notes/{YEAR}/{number}.pdf"
    stored = shop.stack.client("s3").head_object(Bucket=shop.stack.physical["InvoicesBucket"], Key=key)
    assert stored["ContentType"] == "application/pdf"
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["Metadata"] == {
        "order-id": order["orderId"],
        "credit-note-number": number,
        "invoice-number": invoice["number"],
    }
    assert pdf_lines(shop, key) == [
        f"Credit note {number}",
        "Drop Shop Ltd",
        "1 Market Street",
        "Dublin D02 XY00",
        "Ireland",
        "VAT IE1234567X",
        "Billed to",
        "Jane",
        "jane@example.com",
        f"Issued: {shown['creditNote']['issuedAt'][:10]}",
        f"Order: {order['orderId']}",
        f"Credits invoice {invoice['number']} of {invoice['issuedAt'][:10]} in full.",
        "Item Qty VAT Unit price Amount",
        "Enamel mug 3 23 % -12.50 EUR -37.50 EUR",
        "Cookbook 2 13.5 % -19.99 EUR -39.98 EUR",
        "Sourdough 1 9 % -3.27 EUR -3.27 EUR",
        "Gift card 1 0 % -5.00 EUR -5.00 EUR",
        "VAT rate Net VAT Gross",
        "23 % -30.49 EUR -7.01 EUR -37.50 EUR",
        "13.5 % -35.22 EUR -4.76 EUR -39.98 EUR",
        "9 % -3.00 EUR -0.27 EUR -3.27 EUR",
        "0 % -5.00 EUR 0.00 EUR -5.00 EUR",
        "Total net -73.71 EUR",
        "Total VAT -12.04 EUR",
        "Total -85.75 EUR",
        "Prices include VAT.",
    ]


def test_the_credit_note_link_is_for_the_owner_and_admins_only(shop: Shop) -> None:
    order = invoiced_then_cancelled(shop)
    path = f"/orders/{order['orderId']}/credit-note"

    status, link = shop.call("GET", path, as_user="customer")
    assert status == 200
    assert link["number"] == shop.order(order["orderId"])["creditNote"]["number"]
    assert f"/credit-notes/{YEAR}/{link['number']}.pdf" in link["url"]
    assert "X-Amz-Expires=300" in link["url"]
    with urllib.request.urlopen(link["url"], timeout=10) as response:  # noqa: S310 - moto on 127.0.0.1
        assert response.read().startswith(b"%PDF-")
    assert shop.call("GET", path, as_user="admin")[0] == 200
    assert shop.call("GET", path, as_user="other") == (
        404,
        {"error": "not_found", "message": f"no order {order['orderId']}", "field": "orderId"},
    )
    assert shop.call("GET", path)[0] == 401
    assert shop.call("GET", path, as_user="machine")[0] == 401


def test_the_customer_is_mailed_the_credit_note(shop: Shop) -> None:
    order = invoiced_then_cancelled(shop)
    shown = shop.order(order["orderId"])
    reference = order["orderId"].split("-")[0].upper()
    (mail,) = credit_note_emails(shop, order["orderId"])
    assert (mail.to, mail.subject) == (
        ["jane@example.com"],
        f"Credit note {shown['creditNote']['number']} for your order {reference}",
    )
    assert f"cancels invoice <strong>{shown['invoice']['number']}</strong> in full" in mail.body
    assert "<strong>37.50 EUR</strong> is credited to you" in mail.body


def test_an_order_cancelled_before_it_was_invoiced_gets_no_credit_note(shop: Shop) -> None:
    held = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    move(shop, held["orderId"], "CANCELLED")  # never confirmed
    raced = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    move(shop, raced["orderId"], "CONFIRMED")
    move(shop, raced["orderId"], "CANCELLED")  # both before InvoiceQueue is drained
    shop.settle()

    for order in (held, raced):
        assert credit_note_item(shop, order["orderId"]) is None
        assert shop.order(order["orderId"])["creditNote"] is None
        status, answer = shop.call("GET", f"/orders/{order['orderId']}/credit-note", as_user="customer")
        assert (status, answer["field"]) == (404, "creditNote")
    assert credit_note_counter(shop) == 0
    assert shop.wiring.depth("InvoiceDLQ") == 0


def test_an_invoice_issued_after_the_cancellation_was_handled_is_credited_when_it_is_issued(shop: Shop) -> None:
    order = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    shop.settle()

    def broken(_: TaxDocument) -> bytes:
        raise RuntimeError("renderer crashed")

    move(shop, order["orderId"], "CONFIRMED")
    with pytest.raises(RuntimeError):  # the invoice takes its number, but its PDF fails: not issued yet
        invoicing.issue_invoice(order["orderId"], render=broken)
    move(shop, order["orderId"], "CANCELLED")
    # The cancellation is handled first: there is no issued invoice to credit yet.
    assert invoicing.issue_credit_note(order["orderId"], render=render) is None
    assert credit_note_item(shop, order["orderId"]) is None

    # The confirmation comes back (SQS retries it): the invoice is issued, and the order, now cancelled, credited.
    invoice = invoicing.issue_invoice(order["orderId"], render=render)
    assert invoice is not None
    assert invoice.issued
    note = json.loads(credit_note_item(shop, order["orderId"])["invoice"]["S"])
    assert note["invoiceNumber"] == invoice.number
    assert credit_note_item(shop, order["orderId"])["issued"] == {"BOOL": True}

    shop.settle()  # both events, delivered as well: nothing more is numbered
    assert credit_note_counter(shop) == 1
    assert shop.order(order["orderId"])["creditNote"]["number"] == note["number"]


def test_a_redelivered_cancellation_takes_no_second_number_and_renders_nothing_again(shop: Shop) -> None:
    order = invoiced_then_cancelled(shop)
    number = shop.order(order["orderId"])["creditNote"]["number"]

    for status in ("CANCELLED", "CONFIRMED"):
        result = shop.wiring.invoke("InvoiceFunction", status_event(shop, order["orderId"], status))
        assert result == {"batchItemFailures": []}
    shop.settle()
    assert credit_note_counter(shop) == 1
    versions = shop.stack.client("s3").list_object_versions(
        Bucket=shop.stack.physical["InvoicesBucket"], Prefix=f"credit-notes/{YEAR}/{number}.pdf"
    )["Versions"]
    assert len(versions) == 1
    assert len(credit_note_emails(shop, order["orderId"])) == 1


def test_a_credit_note_whose_pdf_failed_is_issued_later_under_the_number_it_took(shop: Shop) -> None:
    order = shop.place_order(shop.add_product())
    shop.settle()
    move(shop, order["orderId"], "CANCELLED")

    def broken(_: TaxDocument) -> bytes:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        invoicing.issue_credit_note(order["orderId"], render=broken)
    allocated = json.loads(credit_note_item(shop, order["orderId"])["invoice"]["S"])["number"]
    assert credit_note_item(shop, order["orderId"])["issued"] == {"BOOL": False}

    issued = invoicing.issue_credit_note(order["orderId"], render=render)
    assert issued is not None
    assert (issued.number, issued.issued) == (allocated, True)
    shop.settle()
    assert shop.order(order["orderId"])["creditNote"]["number"] == allocated


def test_concurrent_credit_notes_take_consecutive_numbers_and_one_order_takes_one(shop: Shop) -> None:
    mug = shop.add_product(stock=20)
    order_ids = [shop.place_order(mug)["orderId"] for _ in range(6)]
    shop.settle()
    for order_id in order_ids:
        move(shop, order_id, "CANCELLED")
    start = credit_note_counter(shop)

    def credit(order_id: str) -> str:
        while True:  # what SQS does for a message whose number race was lost too often: deliver it again
            try:
                note = invoicing.issue_credit_note(order_id, render=render)
            except Conflict:
                continue
            assert note is not None
            return note.number

    # Every order twice, at once (a redelivery racing the first delivery).
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(credit, order_ids * 2))
    assert numbers[:6] == numbers[6:]
    assert sorted(numbers) == sorted(f"CN-{YEAR}-{n:06d}" for n in range(start + 1, start + 7) for _ in range(2))
    assert credit_note_counter(shop) == start + 6


def test_a_delivery_that_read_no_credit_note_before_another_stored_one_takes_no_second_number(shop: Shop) -> None:
    # Two deliveries of one cancellation: both read "no credit note yet", the first numbers and issues it, then
    # the second numbers it from the counter it reads now. Its put of the document must find the first's there:
    # a second number would skip one in the series and overwrite the issued note with an unissued one.
    order = invoiced_then_cancelled(shop)
    first = json.loads(credit_note_item(shop, order["orderId"])["invoice"]["S"])["number"]
    invoice = invoicing._invoices().get(Invoice, order["orderId"])
    assert invoice is not None

    second = invoicing._allocate_credit_note(invoice)  # the late delivery's step after its empty read

    assert second.number == first
    assert credit_note_counter(shop) == 1
    stored = credit_note_item(shop, order["orderId"])
    assert json.loads(stored["invoice"]["S"])["number"] == first
    assert stored["issued"] == {"BOOL": True}
