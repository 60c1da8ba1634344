"""Order e-mails from the templates in the layer, without AWS."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.catalog.currencies import CURRENCIES
from dropshop.identity.model import Contact
from dropshop.invoicing.model import LARGEST
from dropshop.notifications.messages import compose
from dropshop.platform.bus import DomainEvent
from tests.support.amounts import amounts_in

JANE = Contact(user_id="c-1", email="jane@example.com", name="Jane", email_verified=True)
ORDER_ID = "0b5e7c1a-3f5d-4a8e-9c61-2d4f8e9a7b10"


def placed(name: str = "Enamel mug", *, price: int = 1250, currency: str = "EUR") -> DomainEvent:
    line = {
        "productId": "mug",
        "name": name,
        "quantity": 2,
        "unitPrice": {"amount": price, "currency": currency},
        "total": {"amount": price * 2, "currency": currency},
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


def credit_note_issued(amount: int, currency: str) -> DomainEvent:
    return DomainEvent(
        type="CreditNoteIssued",
        source="invoicing",
        data={
            "orderId": ORDER_ID,
            "customerId": "c-1",
            "creditNoteNumber": "CN-2026-000003",
            "invoiceNumber": "DS-2026-000042",
            "issuedAt": "2026-11-25T10:00:00.000+00:00",
            "total": {"amount": amount, "currency": currency},
            "documentKey": "credit-notes/2026/CN-2026-000003.pdf",
        },
    )


def test_a_credit_note_names_itself_its_invoice_and_the_amount_credited() -> None:
    email = compose(credit_note_issued(-123_456, "EUR"), JANE)
    assert email is not None
    assert email.subject == "Credit note CN-2026-000003 for your order 0B5E7C1A"
    assert "credit note CN-2026-000003 cancels invoice DS-2026-000042 in full: 1,234.56 EUR is credited" in email.text
    assert "<strong>1,234.56 EUR</strong> is credited to you" in email.html
    assert "-1,234.56" not in email.text + email.html


def test_a_yen_order_is_mailed_in_whole_yen_and_a_dinar_order_in_fils() -> None:
    yen = compose(placed(price=1250, currency="JPY"), JANE)
    assert yen is not None
    assert "2 x Enamel mug at 1,250 JPY = 2,500 JPY" in yen.text
    assert '<th align="right">2,500 JPY</th>' in yen.html
    dinar = compose(placed(price=1250, currency="KWD"), JANE)
    assert dinar is not None
    assert "2 x Enamel mug at 1.250 KWD = 2.500 KWD" in dinar.text


@given(price=st.integers(min_value=0, max_value=100_000_000), currency=st.sampled_from(sorted(CURRENCIES)))
@example(price=100_000_000, currency="CLF")
@example(price=1, currency="JPY")
def test_every_amount_in_an_order_email_is_printed_exactly_in_its_currency(price: int, currency: str) -> None:
    email = compose(placed(price=price, currency=currency), JANE)
    assert email is not None
    figures = [(price, currency), (price * 2, currency), (price * 2, currency)]  # unit price, line, total
    assert amounts_in(email.text) == figures
    assert amounts_in(email.html) == figures


@given(credited=st.integers(min_value=0, max_value=LARGEST), currency=st.sampled_from(sorted(CURRENCIES)))
@example(credited=1234, currency="KWD")
@example(credited=4999, currency="JPY")
def test_the_amount_a_credit_note_mail_credits_is_printed_exactly_in_its_currency(credited: int, currency: str) -> None:
    email = compose(credit_note_issued(-credited, currency), JANE)
    assert email is not None
    assert amounts_in(email.text) == amounts_in(email.html) == [(credited, currency)]
