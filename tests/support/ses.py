"""The e-mails moto's SES captured, read from moto's server (its dashboard data, /moto-api/data.json)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class SentEmail:
    source: str
    to: list[str]
    subject: str
    body: str  # moto keeps the HTML body when there is one


def sent_emails(moto_endpoint: str) -> list[SentEmail]:
    with urllib.request.urlopen(f"{moto_endpoint}/moto-api/data.json", timeout=10) as response:  # noqa: S310 - moto on 127.0.0.1
        data = json.load(response)
    return [
        SentEmail(m["source"], m["destinations"]["ToAddresses"], m["subject"], m["body"])
        for m in data.get("ses", {}).get("Message", [])
    ]
