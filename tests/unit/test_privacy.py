"""What the telemetry collector must never log: e-mails, tokens, card numbers, secrets in URLs."""

from __future__ import annotations

import pytest

from dropshop.telemetry.privacy import scrub, scrub_text, scrub_url

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("failed for jane.doe+shop@example.co.uk today", "failed for [email] today"),
        (f"token {JWT} rejected", "token [token] rejected"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [token]"),
        ("card 4111 1111 1111 1111 declined", "card [card] declined"),
        ("card 4111-1111-1111-1111 declined", "card [card] declined"),
        ("card 5500005555555559", "card [card]"),
    ],
)
def test_personal_data_and_secrets_are_masked_in_text(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 1234567890123 shipped",  # 13 digits that fail the Luhn check: an id, not a card
        "rendered in 1834 ms",
        "TypeError: x is undefined",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_secret_query_parameters_lose_their_values_and_others_stay() -> None:
    url = "https://shop.example.com/checkout?step=2&token=abc123&Email=jane%40example.com#frag"
    assert scrub_url(url) == "https://shop.example.com/checkout?step=2&token=[redacted]&Email=[redacted]#frag"


def test_tokens_in_url_paths_and_fragments_are_masked() -> None:
    assert scrub_url(f"https://shop.example.com/cb#id_token={JWT}") == "https://shop.example.com/cb#id_token=[token]"


def test_nested_values_are_scrubbed_and_url_fields_get_url_rules() -> None:
    record = {
        "url": "https://shop.example.com/?code=s3cr3t",
        "data": {"note": "mail jane@example.com", "cards": ["4111111111111111"], "count": 3},
    }
    assert scrub(record) == {
        "url": "https://shop.example.com/?code=[redacted]",
        "data": {"note": "mail [email]", "cards": ["[card]"], "count": 3},
    }
