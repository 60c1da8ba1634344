"""Order e-mails through SES (moto's server captures them), sent once per event to the customer's address
from the directory."""

from __future__ import annotations

import pytest

from dropshop.platform import settings
from tests.integration.commerce.conftest import Shop
from tests.support.logs import LogLines
from tests.support.ses import SentEmail, sent_emails


def sender(shop: Shop) -> str:
    """The template's default sender: an address of the stack's own."""
    return f"orders+{shop.stack.name}@dropshop.example"


def emails_about(shop: Shop, order_id: str) -> list[SentEmail]:
    assert shop.stack.endpoint_url is not None
    reference = order_id.split("-")[0].upper()
    return [email for email in sent_emails(shop.stack.endpoint_url) if reference in email.subject]


def test_placing_an_order_mails_the_customer_its_lines_then_its_confirmation(shop: Shop) -> None:
    mug = shop.add_product(name="Enamel mug", amount=1250)
    order = shop.place_order(mug, 2)
    shop.settle()

    reference = order["orderId"].split("-")[0].upper()
    placed, confirmed = emails_about(shop, order["orderId"])
    assert (placed.source, placed.to, placed.subject) == (
        sender(shop),
        ["jane@example.com"],
        f"We have your order {reference}",
    )
    assert '<td>Enamel mug</td><td align="right">2</td>' in placed.body
    assert "25.00 EUR" in placed.body
    assert (confirmed.to, confirmed.subject) == (["jane@example.com"], f"Your order {reference} is confirmed")


def test_every_status_change_is_mailed(shop: Shop) -> None:
    order = shop.place_order(shop.add_product())
    shop.settle()
    for status in ("SHIPPED", "DELIVERED"):
        shop.call("PUT", f"/orders/{order['orderId']}/status", as_user="admin", body={"status": status})
    shop.settle()
    reference = order["orderId"].split("-")[0].upper()
    assert [email.subject for email in emails_about(shop, order["orderId"])] == [
        f"We have your order {reference}",
        f"Your order {reference} is confirmed",
        f"Your order {reference} is shipped",
        f"Your order {reference} is delivered",
    ]


def test_a_redelivered_event_sends_no_second_email(shop: Shop) -> None:
    order = shop.place_order(shop.add_product())
    shop.settle()
    sent = len(emails_about(shop, order["orderId"]))

    result = shop.wiring.invoke("NotificationFunction", shop.redelivery("OrderPlaced", order["orderId"]))
    assert result == {"batchItemFailures": []}
    assert len(emails_about(shop, order["orderId"])) == sent


def test_a_customer_no_longer_in_the_directory_gets_no_email_and_nothing_fails(shop: Shop) -> None:
    order = shop.place_order(shop.add_product(), as_user="other")
    shop.stack.client("cognito-idp").admin_delete_user(UserPoolId=shop.stack.physical["UserPool"], Username="omar")
    shop.settle()
    assert emails_about(shop, order["orderId"]) == []
    assert shop.wiring.depth("NotificationDLQ") == 0
    assert shop.wiring.depth("NotificationQueue") == 0
    assert shop.order(order["orderId"], as_user="admin")["status"] == "CONFIRMED"


def test_an_address_its_owner_never_confirmed_gets_no_email(shop: Shop) -> None:
    shop.stack.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=shop.stack.physical["UserPool"],
        Username="jane",
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )
    order = shop.place_order(shop.add_product())
    shop.settle()
    assert emails_about(shop, order["orderId"]) == []
    assert shop.wiring.depth("NotificationDLQ") == 0


def test_an_email_ses_rejects_is_counted_not_retried(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    monkeypatch.setenv("SENDER_EMAIL", "nobody@unverified.example")  # SES refuses unverified senders
    settings.settings.cache_clear()
    order = shop.place_order(shop.add_product())
    shop.settle()
    assert emails_about(shop, order["orderId"]) == []
    assert shop.wiring.depth("NotificationDLQ") == 0
    rejected = logs.with_message("SES rejected the e-mail")
    assert [line["eventType"] for line in rejected] == ["OrderPlaced", "OrderStatusChanged"]  # once each, no retry
