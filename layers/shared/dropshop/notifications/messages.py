"""Compose the e-mail for an order event from the templates in `templates/` (Jinja2: HTML autoescaped)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dropshop.identity.model import Contact
from dropshop.invoicing.events import CREDIT_NOTE_ISSUED
from dropshop.invoicing.model import Amount
from dropshop.notifications.model import Email, order_reference
from dropshop.orders.events import ORDER_PLACED, ORDER_STATUS_CHANGED
from dropshop.orders.model import OrderLine
from dropshop.platform.bus import DomainEvent
from dropshop.platform.shop import SHOP

TEMPLATES = Path(__file__).parent / "templates"
# Per event type: its templates (templates/<name>.html and .txt) and the subject line.
MESSAGES = {
    ORDER_PLACED: ("order_placed", "We have your order {reference}"),
    ORDER_STATUS_CHANGED: ("order_status_changed", "Your order {reference} is {status}"),
    CREDIT_NOTE_ISSUED: ("credit_note_issued", "Credit note {credit_note} for your order {reference}"),
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a template naming a missing value fails in tests, not in a customer's inbox
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def compose(event: DomainEvent, recipient: Contact) -> Email | None:
    """The e-mail `event` sends to `recipient`, or None when the event type sends none."""
    if event.type not in MESSAGES:
        return None
    template, subject = MESSAGES[event.type]
    data = event.data
    total = Amount.model_validate(data["total"])  # a credit note's is negative
    values: dict[str, Any] = {
        "name": recipient.name or "there",
        "reference": order_reference(data["orderId"]),
        "order_id": data["orderId"],
        "status": str(data.get("status", "")).lower(),
        "lines": [OrderLine.model_validate(line) for line in data.get("lines", [])],
        "total": total,
        "credited": total.negated(),
        "credit_note": data.get("creditNoteNumber"),
        "invoice": data.get("invoiceNumber"),
        "shop": SHOP.name,
    }
    environment = _environment()
    return Email(
        to=recipient.email,
        subject=subject.format(**values),
        html=environment.get_template(f"{template}.html").render(values),
        text=environment.get_template(f"{template}.txt").render(values),
    )
