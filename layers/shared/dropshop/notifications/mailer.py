"""Sends e-mails through SES from the configured sender (an identity verified in SES)."""

from __future__ import annotations

from typing import Any

from dropshop.notifications.model import Email


class MailRejected(Exception):
    """SES refused the message for good (MessageRejected): sending it again would fail again."""


class Mailer:
    def __init__(self, ses: Any, sender: str) -> None:
        self._ses = ses
        self._sender = sender

    def send(self, email: Email) -> str:
        """SES's message id; MailRejected when SES refuses the message itself."""
        try:
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
        except self._ses.exceptions.MessageRejected as rejected:
            raise MailRejected(str(rejected)) from rejected
        message_id: str = sent["MessageId"]
        return message_id
