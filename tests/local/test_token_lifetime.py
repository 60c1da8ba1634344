"""Local tokens live as long as the template's app clients say, read as Cognito reads the settings."""

from __future__ import annotations

import pytest

from tools.local.stack import TEMPLATE, load_template
from tools.local.token_lifetime import DEFAULT_SECONDS, token_seconds


def client(name: str) -> dict[str, object]:
    properties: dict[str, object] = load_template(TEMPLATE.read_text())["Resources"][name]["Properties"]
    return properties


def test_the_web_clients_tokens_live_the_templates_15_minutes() -> None:
    web = client("UserPoolClient")
    assert token_seconds(web, "id") == token_seconds(web, "access") == 15 * 60


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, DEFAULT_SECONDS),  # Cognito's default: an hour
        ({"IdTokenValidity": 2}, 2 * 3600),  # no unit: hours
        ({"IdTokenValidity": 5, "TokenValidityUnits": {"IdToken": "minutes"}}, 300),
        ({"IdTokenValidity": 1, "TokenValidityUnits": {"IdToken": "days"}}, 86400),
        ({"IdTokenValidity": 900, "TokenValidityUnits": {"AccessToken": "seconds", "IdToken": "seconds"}}, 900),
        ({"AccessTokenValidity": 5, "TokenValidityUnits": {"AccessToken": "minutes"}}, DEFAULT_SECONDS),
    ],
)
def test_an_id_tokens_validity_is_read_in_its_own_unit(settings: dict[str, object], expected: int) -> None:
    assert token_seconds(settings, "id") == expected
