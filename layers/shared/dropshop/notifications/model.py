"""An e-mail as the customer will read it: both bodies, so every mail client shows something sensible."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    html: str
    text: str


def order_reference(order_id: str) -> str:
    """The short reference customers see (and can quote to support): the order id's first block."""
    return order_id.split("-")[0].upper()
