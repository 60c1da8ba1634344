"""Use cases of notifications: tell the customer about their order's events, once per event."""

from __future__ import annotations

from typing import Any

from dropshop.identity import service as identity
from dropshop.notifications.mailer import Mailer, MailRejected
from dropshop.notifications.messages import compose
from dropshop.platform import aws, idempotency
from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

NOTIFIER = "notifications"


def _mailer() -> Mailer:
    return Mailer(aws.client("ses"), settings().sender_email)


def notify(event: DomainEvent) -> None:
    """E-mail the order's customer about `event`. A redelivered event sends nothing again (Powertools
    idempotency on the event id); a send that failed is retried with the message."""
    idempotency.once(_send, caller=NOTIFIER, key=event.id, payload={"event": event.to_json()})


def _send(payload: dict[str, Any]) -> dict[str, Any]:
    event = DomainEvent.from_json(payload["event"])
    recipient = identity.contact(event.data["customerId"])
    if recipient is None or not recipient.email_verified:  # gone, or an address its owner never confirmed
        metrics.add_metric(name="NotificationsWithoutRecipient", unit=MetricUnit.Count, value=1)
        logger.warning("customer has no verified e-mail address", extra={"customerId": event.data["customerId"]})
        return {"sent": None}
    email = compose(event, recipient)
    if email is None:
        return {"sent": None}
    try:
        message_id = _mailer().send(email)
    except MailRejected as rejected:
        # Retrying cannot help (an address SES suppresses, or one outside the sandbox): count it, and the
        # EmailsRejected alarm tells whoever runs the shop.
        metrics.add_metric(name="EmailsRejected", unit=MetricUnit.Count, value=1)
        logger.error("SES rejected the e-mail", extra={"eventType": event.type, "reason": str(rejected)})
        return {"sent": None}
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
    logger.info("e-mail sent", extra={"eventType": event.type, "messageId": message_id})
    return {"sent": message_id}
