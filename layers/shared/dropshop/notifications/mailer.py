"""Sends e-mails through SES from the configured sender (an identity verified in SES)."""

from __future__ import annotations

from typing import Any

from dropshop.notifications.model import Email


class Mailer:
    def __init__(self, ses: Any, sender: str) -> None:
        self._ses = ses
        self._sender = sender

    def send(self, email: Email) -> str:
        """SES's message id."""
        sent = self._ses.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [email.to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                },
            },
        )
        message_id: str = sent["MessageId"]
        return message_id
