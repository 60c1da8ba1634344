"""Invoices: issued for confirmed orders under gapless yearly numbers, stored as PDFs in the private invoices
bucket, handed to their owner as presigned links. Through the template's wiring on moto's server."""

from __future__ import annotations

import io
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pypdf
import pytest

from dropshop.catalog import vat
from dropshop.invoicing import service as invoicing
from dropshop.invoicing.model import Invoice
from dropshop.platform.errors import Conflict
from handlers.invoice.invoice_pdf import render
from tests.integration.commerce.conftest import Shop
from tests.support.ses import sent_emails

YEAR = datetime.now(UTC).year
HELD = 150_000  # above AutoConfirmLimitCents: the order waits for an admin


def invoice_item(shop: Shop, order_id: str) -> dict[str, Any] | None:
    return shop.item("InvoicesTable", id=f"order#{order_id}")


def counter(shop: Shop) -> int:
    item = shop.item("InvoicesTable", id=f"counter#{YEAR}")
    return int(item["last"]["N"]) if item else 0


def pdf_text(shop: Shop, key: str) -> str:
    body = shop.stack.client("s3").get_object(Bucket=shop.stack.physical["InvoicesBucket"], Key=key)["Body"].read()
    return str(pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text())


def place_mixed_basket(shop: Shop) -> dict[str, Any]:
    """A basket at every Irish rate; its figures are worked out by hand in the tests that read it."""
    basket = [
        (shop.add_product(name="Enamel mug", amount=1250), 3),  # 23 %
        (shop.add_product(name="Cookbook", amount=1999, vat_category="reduced"), 2),  # 13.5 %
        (shop.add_product(name="Sourdough", amount=327, vat_category="second_reduced"), 1),  # 9 %
        (shop.add_product(name="Gift card", amount=500, vat_category="zero"), 1),  # 0 %
    ]
    lines = [{"productId": product_id, "quantity": quantity} for product_id, quantity in basket]
    status, order = shop.call("POST", "/orders", as_user="customer", body={"lines": lines})
    assert status == 201, order
    return dict(order)


# Per rate: gross split as net = round_half_up(gross * 100 / (100 + rate)), VAT = gross - net.
#   23 %:   37.50 -> 3750 * 100 / 123   = 3048.78 -> 30.49 net,  7.01 VAT
#   13.5 %: 39.98 -> 3998 * 100 / 113.5 = 3522.47 -> 35.22 net,  4.76 VAT
#   9 %:     3.27 ->  327 * 100 / 109   =  300.00 ->  3.00 net,  0.27 VAT
#   0 %:     5.00 ->                                   5.00 net,  0.00 VAT
#   totals: 73.71 net + 12.04 VAT = 85.75
MIXED_BASKET_TABLES = [
    "Item Qty VAT Unit price Amount",
    "Enamel mug 3 23 % 12.50 EUR 37.50 EUR",
    "Cookbook 2 13.5 % 19.99 EUR 39.98 EUR",
    "Sourdough 1 9 % 3.27 EUR 3.27 EUR",
    "Gift card 1 0 % 5.00 EUR 5.00 EUR",
    "VAT rate Net VAT Gross",
    "23 % 30.49 EUR 7.01 EUR 37.50 EUR",
    "13.5 % 35.22 EUR 4.76 EUR 39.98 EUR",
    "9 % 3.00 EUR 0.27 EUR 3.27 EUR",
    "0 % 5.00 EUR 0.00 EUR 5.00 EUR",
]


def test_a_confirmed_order_gets_a_numbered_pdf_invoice_in_the_private_bucket(shop: Shop) -> None:
    order = place_mixed_basket(shop)
    shop.settle()

    invoiced = shop.order(order["orderId"])
    assert invoiced["status"] == "CONFIRMED"
    number = invoiced["invoice"]["number"]
    assert number.startswith(f"DS-{YEAR}-")
    key = f"invoices/{YEAR}/{number}.pdf"
    s3, bucket = shop.stack.client("s3"), shop.stack.physical["InvoicesBucket"]
    stored = s3.head_object(Bucket=bucket, Key=key)
    assert stored["ContentType"] == "application/pdf"
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["Metadata"] == {"order-id": order["orderId"], "invoice-number": number}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    issued = json.loads(invoice_item(shop, order["orderId"])["invoice"]["S"])["issuedAt"][:10]
    assert pdf_text(shop, key).splitlines() == [
        f"Invoice {number}",
        "Drop Shop Ltd",
        "1 Market Street",
        "Dublin D02 XY00",
        "Ireland",
        "VAT IE1234567X",
        "Billed to",
        "Jane",
        "jane@example.com",
        f"Issued: {issued}",
        f"Order: {order['orderId']}",
        *MIXED_BASKET_TABLES,
        "Total net 73.71 EUR",
        "Total VAT 12.04 EUR",
        "Total 85.75 EUR",
        "Prices include VAT.",
    ]


def test_an_order_keeps_the_vat_rate_it_was_placed_at(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    book = shop.add_product(name="Cookbook", amount=HELD, vat_category="reduced")
    order = shop.place_order(book)
    assert (order["lines"][0]["vatCategory"], order["lines"][0]["vatRate"]) == ("reduced", "13.5")
    # After placing: the product moves to another category, and the country's reduced rate changes.
    draft = {"name": "Cookbook", "category": "books", "price": {"amount": HELD, "currency": "EUR"}, "stock": 9}
    assert shop.call("PUT", f"/products/{book}", as_user="admin", body=draft | {"vatCategory": "zero"})[0] == 200
    monkeypatch.setitem(vat.RATES["IE"], vat.VatCategory.REDUCED, Decimal("15"))
    shop.call("PUT", f"/orders/{order['orderId']}/status", as_user="admin", body={"status": "CONFIRMED"})
    shop.settle()

    number = shop.order(order["orderId"])["invoice"]["number"]
    text = pdf_text(shop, f"invoices/{YEAR}/{number}.pdf")
    # 1,500.00 at 13.5 %: 150000 * 100 / 113.5 = 132158.59 -> 1,321.59 net, 178.41 VAT
    assert "Cookbook 1 13.5 % 1,500.00 EUR 1,500.00 EUR" in text
    assert "13.5 % 1,321.59 EUR 178.41 EUR 1,500.00 EUR" in text
    assert shop.order(order["orderId"])["lines"][0]["vatRate"] == "13.5"


# 3 at 1250 minor units, 23 %: 3750 * 100 / 123 = 3048.78 -> 3049 net, 701 VAT, in the currency's minor unit.
@pytest.mark.parametrize(
    ("currency", "unit_price", "line_total", "vat_row"),
    [
        ("JPY", "1,250 JPY", "3,750 JPY", "23 % 3,049 JPY 701 JPY 3,750 JPY"),
        ("KWD", "1.250 KWD", "3.750 KWD", "23 % 3.049 KWD 0.701 KWD 3.750 KWD"),
    ],
)
def test_an_order_in_a_currency_without_two_decimals_is_served_invoiced_and_mailed_in_its_own(
    shop: Shop, currency: str, unit_price: str, line_total: str, vat_row: str
) -> None:
    mug = shop.add_product(name="Enamel mug", amount=1250, currency=currency)
    assert shop.call("GET", f"/products/{mug}")[1]["price"] == {"amount": 1250, "currency": currency}
    order = shop.place_order(mug, 3)
    assert order["total"] == {"amount": 3750, "currency": currency}  # the API speaks integer minor units
    shop.settle()

    number = shop.order(order["orderId"])["invoice"]["number"]
    text = pdf_text(shop, f"invoices/{YEAR}/{number}.pdf")
    assert f"Enamel mug 3 23 % {unit_price} {line_total}" in text
    assert vat_row in text
    assert f"Total {line_total}" in text
    assert shop.stack.endpoint_url is not None
    reference = order["orderId"].split("-")[0].upper()
    (placed,) = [m for m in sent_emails(shop.stack.endpoint_url) if m.subject == f"We have your order {reference}"]
    assert f'<td align="right">{unit_price}</td><td align="right">{line_total}</td>' in placed.body


def test_the_invoice_link_is_for_the_owner_and_admins_only(shop: Shop) -> None:
    order = shop.place_order(shop.add_product())
    shop.settle()
    path = f"/orders/{order['orderId']}/invoice"

    status, link = shop.call("GET", path, as_user="customer")
    assert status == 200
    assert link["number"] == shop.order(order["orderId"])["invoice"]["number"]
    assert "X-Amz-Signature=" in link["url"]
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


def test_an_order_waiting_for_review_has_no_invoice_until_an_admin_confirms_it(shop: Shop) -> None:
    order = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    shop.settle()
    path = f"/orders/{order['orderId']}/invoice"
    status, answer = shop.call("GET", path, as_user="customer")
    assert (status, answer["field"]) == (404, "invoice")
    assert invoice_item(shop, order["orderId"]) is None

    shop.call("PUT", f"/orders/{order['orderId']}/status", as_user="admin", body={"status": "CONFIRMED"})
    shop.settle()
    assert shop.call("GET", path, as_user="customer")[0] == 200


def test_a_cancelled_order_is_never_invoiced(shop: Shop) -> None:
    order = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    shop.call("PUT", f"/orders/{order['orderId']}/status", as_user="admin", body={"status": "CANCELLED"})
    shop.settle()
    assert invoice_item(shop, order["orderId"]) is None
    assert counter(shop) == 0


def test_an_order_cancelled_before_its_invoice_was_numbered_gets_none(shop: Shop) -> None:
    order = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    for status in ("CONFIRMED", "CANCELLED"):  # both before InvoiceQueue is drained
        assert (
            shop.call("PUT", f"/orders/{order['orderId']}/status", as_user="admin", body={"status": status})[0] == 200
        )
    shop.settle()
    assert invoice_item(shop, order["orderId"]) is None
    assert counter(shop) == 0
    assert shop.wiring.depth("InvoiceDLQ") == 0


def test_a_redelivered_confirmation_takes_no_second_number_and_renders_nothing_again(shop: Shop) -> None:
    order = shop.place_order(shop.add_product())
    shop.settle()
    number = shop.order(order["orderId"])["invoice"]["number"]
    taken = counter(shop)

    result = shop.wiring.invoke("InvoiceFunction", shop.redelivery("OrderStatusChanged", order["orderId"]))
    assert result == {"batchItemFailures": []}
    assert counter(shop) == taken
    assert json.loads(invoice_item(shop, order["orderId"])["invoice"]["S"])["number"] == number
    versions = shop.stack.client("s3").list_object_versions(
        Bucket=shop.stack.physical["InvoicesBucket"], Prefix=f"invoices/{YEAR}/{number}.pdf"
    )["Versions"]
    assert len(versions) == 1


def test_an_invoice_whose_pdf_failed_is_issued_later_under_the_number_it_took(shop: Shop) -> None:
    order = shop.place_order(shop.add_product(name="Sofa", amount=HELD))
    shop.settle()

    def broken(_: Invoice) -> bytes:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        invoicing.issue_invoice(order["orderId"], render=broken)
    allocated = json.loads(invoice_item(shop, order["orderId"])["invoice"]["S"])["number"]
    assert invoice_item(shop, order["orderId"])["issued"] == {"BOOL": False}

    issued = invoicing.issue_invoice(order["orderId"], render=render)
    assert issued is not None
    assert (issued.number, issued.issued) == (allocated, True)
    assert counter(shop) == issued.sequence


def test_concurrent_invoices_take_consecutive_numbers_without_gaps(shop: Shop) -> None:
    sofa = shop.add_product(name="Sofa", amount=HELD, stock=20)
    order_ids = [shop.place_order(sofa)["orderId"] for _ in range(8)]
    start = counter(shop)

    def issue(order_id: str) -> int:
        while True:  # what SQS does for a message whose number race was lost too often: deliver it again
            try:
                issued = invoicing.issue_invoice(order_id, render=render)
            except Conflict:
                continue
            assert issued is not None
            return issued.sequence

    with ThreadPoolExecutor(max_workers=8) as pool:
        sequences = sorted(pool.map(issue, order_ids))
    assert sequences == list(range(start + 1, start + 9))
    assert counter(shop) == start + 8


def test_an_event_for_an_order_that_does_not_exist_fails_and_is_retried(shop: Shop) -> None:
    event = {
        "Records": [
            {
                "messageId": "m-1",
                "body": json.dumps(
                    {
                        "id": "e-1",
                        "type": "OrderStatusChanged",
                        "source": "orders",
                        "occurredAt": "2026-11-25T10:00:00.000+00:00",
                        "data": {"orderId": "no-such-order", "customerId": "c", "status": "CONFIRMED"},
                    }
                ),
                "eventSource": "aws:sqs",
            }
        ]
    }
    assert shop.wiring.invoke("InvoiceFunction", event) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert counter(shop) == 0
