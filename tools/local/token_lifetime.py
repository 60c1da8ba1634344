"""How long Cognito's tokens live: the app client's `IdTokenValidity`/`AccessTokenValidity` in its
`TokenValidityUnits` (hours when no unit is given), one hour when the client says nothing (the Amazon Cognito API
Reference, CreateUserPoolClient: AccessTokenValidity, IdTokenValidity, TokenValidityUnits). moto signs every token
for an hour whatever its client says; the local stack asks this instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECONDS_PER_UNIT = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# token_use → (the client's validity setting, its key in TokenValidityUnits)
VALIDITY_SETTINGS = {"id": ("IdTokenValidity", "IdToken"), "access": ("AccessTokenValidity", "AccessToken")}
DEFAULT_SECONDS = 3600


def token_seconds(client: Mapping[str, Any], token_use: str) -> int:
    """Seconds a `token_use` ("id" or "access") token of an app client (as DescribeUserPoolClient says it) lives."""
    setting, unit_key = VALIDITY_SETTINGS[token_use]
    validity = client.get(setting)
    if validity is None:
        return DEFAULT_SECONDS
    unit = (client.get("TokenValidityUnits") or {}).get(unit_key, "hours")
    return int(validity) * SECONDS_PER_UNIT[unit]
