"""Order e-mails from the templates in the layer, without AWS."""

from __future__ import annotations

from dropshop.identity.model import Contact
from dropshop.notifications.messages import compose
from dropshop.platform.bus import DomainEvent

JANE = Contact(user_id="c-1", email="jane@example.com", name="Jane", email_verified=True)
ORDER_ID = "0b5e7c1a-3f5d-4a8e-9c61-2d4f8e9a7b10"


def placed(name: str = "Enamel mug") -> DomainEvent:
    line = {
        "productId": "mug",
        "name": name,
        "quantity": 2,
        "unitPrice": {"amount": 1250, "currency": "EUR"},
        "total": {"amount": 2500, "currency": "EUR"},
    }
    data = {"orderId": ORDER_ID, "customerId": "c-1", "status": "PLACED", "lines": [line]}
    return DomainEvent(type="OrderPlaced", source="orders", data=data | {"total": line["total"]})


def test_the_order_confirmation_lists_every_line_in_both_bodies() -> None:
    email = compose(placed(), JANE)
    assert email is not None
    assert (email.to, email.subject) == ("jane@example.com", "We have your order 0B5E7C1A")
    assert "2 x Enamel mug at 12.50 EUR = 25.00 EUR" in email.text
    assert "Total: 25.00 EUR" in email.text
    assert "<td>Enamel mug</td>" in email.html
    assert "Hello Jane," in email.text
    assert "Hello Jane," in email.html


def test_product_names_cannot_inject_html_but_read_as_written_in_text() -> None:
    email = compose(placed(name="Mug <script>alert(1)</script>"), JANE)
    assert email is not None
    assert "<script>" not in email.html
    assert "Mug &lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "Mug <script>alert(1)</script>" in email.text


def test_a_status_change_names_the_new_status() -> None:
    event = DomainEvent(
        type="OrderStatusChanged",
        source="orders",
        data={"orderId": ORDER_ID, "customerId": "c-1", "previous": "CONFIRMED", "status": "SHIPPED", "by": "a"}
        | {"total": {"amount": 2500, "currency": "EUR"}},
    )
    email = compose(event, Contact(user_id="c-1", email="x@example.com", name=None, email_verified=True))
    assert email is not None
    assert email.subject == "Your order 0B5E7C1A is shipped"
    assert "Hello there," in email.text
    assert "is shipped" in email.text
    assert "25.00 EUR" in email.text


def test_events_without_an_email_send_none() -> None:
    assert compose(DomainEvent(type="InvoiceIssued", source="invoicing", data={}), JANE) is None


def test_a_credit_note_names_itself_its_invoice_and_the_amount_credited() -> None:
    event = DomainEvent(
        type="CreditNoteIssued",
        source="invoicing",
        data={
            "orderId": ORDER_ID,
            "customerId": "c-1",
            "creditNoteNumber": "CN-2026-000003",
            "invoiceNumber": "DS-2026-000042",
            "issuedAt": "2026-11-25T10:00:00.000+00:00",
            "total": {"amount": -123_456, "currency": "EUR"},
            "documentKey": "credit-notes/2026/CN-2026-000003.pdf",
        },
    )
    email = compose(event, JANE)
    assert email is not None
    assert email.subject == "Credit note CN-2026-000003 for your order 0B5E7C1A"
    assert "credit note CN-2026-000003 cancels invoice DS-2026-000042 in full: 1,234.56 EUR is credited" in email.text
    assert "<strong>1,234.56 EUR</strong> is credited to you" in email.html
    assert "-1,234.56" not in email.text + email.html
