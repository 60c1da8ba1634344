"""The whole order journey on `make local`: a customer orders, the order is confirmed and invoiced (a PDF
in S3 behind a presigned link), the customer is e-mailed, and status changes reach their WebSocket; an
invoiced order that is cancelled gets its credit note, to download and by e-mail."""

from __future__ import annotations

import io
import re
import urllib.request
from typing import Any

import pypdf
from websockets.sync.client import connect

from tests.e2e.conftest import Client, eventually, next_push
from tests.support.ses import sent_emails
from tools.local.server import LocalStack


def test_order_is_confirmed_invoiced_mailed_and_its_status_pushed_to_the_customer(
    local: LocalStack, api: Client, customer_token: str, admin_token: str
) -> None:
    with connect(f"{local.websocket_url}/?token={customer_token}", open_timeout=10) as socket:
        status, order = api.request(
            "POST", "/orders", token=customer_token, body={"lines": [{"productId": "demo-enamel-mug", "quantity": 3}]}
        )
        assert status == 201
        order_id = order["orderId"]
        reference = order_id.split("-")[0].upper()

        # Confirmed by the worker, then invoiced: the order shows its invoice number.
        def invoiced() -> dict[str, Any] | None:
            _, current = api.request("GET", f"/orders/{order_id}", token=customer_token)
            return current if current.get("invoice") else None

        number = eventually(invoiced)["invoice"]["number"]
        assert re.fullmatch(r"DS-\d{4}-\d{6}", number)

        # The PDF, through the short-lived link the owner gets.
        status, link = api.request("GET", f"/orders/{order_id}/invoice", token=customer_token)
        assert status == 200
        assert link["number"] == number
        with urllib.request.urlopen(link["url"], timeout=10) as response:  # noqa: S310 - moto on 127.0.0.1
            assert response.headers["Content-Type"] == "application/pdf"
            text = pypdf.PdfReader(io.BytesIO(response.read())).pages[0].extract_text()
        assert f"Invoice {number}" in text
        assert "Enamel mug 3 23 % 12.50 EUR 37.50 EUR" in text
        # 37.50 at 23 %: 3750 * 100 / 123 = 3048.78 -> 30.49 net, 7.01 VAT
        assert "23 % 30.49 EUR 7.01 EUR 37.50 EUR" in text
        assert "Total VAT 7.01 EUR" in text
        assert "Jane Customer" in text

        # The confirmation e-mail, with the order's lines.
        def mailed() -> list[Any]:
            return [m for m in sent_emails(local.endpoint) if m.subject == f"We have your order {reference}"]

        (confirmation,) = eventually(mailed)
        assert confirmation.to == ["jane@dropshop.local"]
        assert "Enamel mug" in confirmation.body
        assert "37.50 EUR" in confirmation.body

        # The auto-confirmation was pushed; the admin ships and the customer's socket hears it at once.
        assert next_push(socket, order_id)["status"] == "CONFIRMED"
        status, _ = api.request("PUT", f"/orders/{order_id}/status", token=admin_token, body={"status": "SHIPPED"})
        assert status == 200
        pushed = next_push(socket, order_id)
        assert (pushed["type"], pushed["status"], pushed["previous"]) == ("orderStatus", "SHIPPED", "CONFIRMED")
        eventually(
            lambda: [m for m in sent_emails(local.endpoint) if m.subject == f"Your order {reference} is shipped"]
        )


def test_a_cancelled_invoiced_order_gets_a_credit_note_to_download_and_by_mail(
    local: LocalStack, api: Client, customer_token: str, admin_token: str
) -> None:
    status, order = api.request(
        "POST", "/orders", token=customer_token, body={"lines": [{"productId": "demo-desk-lamp", "quantity": 1}]}
    )
    assert status == 201
    order_id = order["orderId"]
    reference = order_id.split("-")[0].upper()

    def shown(field: str) -> Any:
        def check() -> Any:
            _, current = api.request("GET", f"/orders/{order_id}", token=customer_token)
            return current.get(field)

        return check

    invoice = eventually(shown("invoice"))  # placed, confirmed by the worker, invoiced
    status, _ = api.request("PUT", f"/orders/{order_id}/status", token=admin_token, body={"status": "CANCELLED"})
    assert status == 200
    number = eventually(shown("creditNote"))["number"]
    assert re.fullmatch(r"CN-\d{4}-\d{6}", number)

    status, link = api.request("GET", f"/orders/{order_id}/credit-note", token=customer_token)
    assert status == 200
    assert link["number"] == number
    with urllib.request.urlopen(link["url"], timeout=10) as response:  # noqa: S310 - moto on 127.0.0.1
        assert response.headers["Content-Type"] == "application/pdf"
        text = pypdf.PdfReader(io.BytesIO(response.read())).pages[0].extract_text()
    # 49.99 at 23 %: 4999 * 100 / 123 = 4064.23 -> 40.64 net, 9.35 VAT; all negated on the credit note.
    assert f"Credit note {number}" in text
    assert f"Credits invoice {invoice['number']} of {invoice['issuedAt'][:10]} in full." in text
    assert "Desk lamp 1 23 % -49.99 EUR -49.99 EUR" in text
    assert "23 % -40.64 EUR -9.35 EUR -49.99 EUR" in text
    assert "Total -49.99 EUR" in text

    def mailed() -> list[Any]:
        subject = f"Credit note {number} for your order {reference}"
        return [m for m in sent_emails(local.endpoint) if m.subject == subject]

    (mail,) = eventually(mailed)
    assert mail.to == ["jane@dropshop.local"]
    assert "49.99 EUR" in mail.body
