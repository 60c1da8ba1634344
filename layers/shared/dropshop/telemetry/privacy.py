"""Scrubbing of personal data and secrets from what browsers report, before anything is logged."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+")
_CARD_LIKE = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "code",
        "password",
        "secret",
        "key",
        "api_key",
        "auth",
        "email",
    }
)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if _luhn_valid(digits) else match.group()


def scrub_text(text: str) -> str:
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub("Bearer [token]", text)
    text = _EMAIL.sub("[email]", text)
    return _CARD_LIKE.sub(_mask_card, text)


def scrub_url(url: str) -> str:
    """Secret-looking query parameters lose their values; the rest of the URL is scrubbed like text."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url)
    query = urlencode(
        [
            (k, "[redacted]" if k.lower() in _SECRET_PARAMS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return scrub_text(urlunsplit(parts._replace(query=query, fragment=scrub_text(parts.fragment))))


def scrub(value: Any, *, key: str = "") -> Any:
    """Scrub every string inside a JSON-like value; fields that hold URLs get URL-aware scrubbing."""
    if isinstance(value, str):
        return scrub_url(value) if key in {"url", "source", "referrer"} else scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, key=k) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
