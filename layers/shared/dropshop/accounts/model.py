"""An account record, validated and normalised: what the pipeline accepts is always in this shape.

Its text follows the REST API's rule (`platform/model.py`): no control or format characters (NUL, escapes, bidi
overrides), whichever door the record came in by."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StringConstraints,
)

from dropshop.platform.model import printable

# The rules' numbers, words and patterns, shared with the one-pass reading of a record's bytes (`accounts.compiled`).
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_BALANCE_CENTS = 10**15
DEFAULT_CURRENCY = "EUR"
ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Status = Literal["active", "suspended", "closed"]
# What a version's digest is taken of: json.dumps(record, sort_keys=True) as ever (the stored keys depend on
# it), with the encoder made once instead of per call.
_DIGESTED = json.JSONEncoder(sort_keys=True)


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def utc_timestamp(value: object) -> datetime:
    """An ISO 8601 string with a timezone, in UTC. Numbers (epoch seconds) are refused: their unit and zone
    are guesses."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a timezone, e.g. 2026-11-24T12:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("is not an ISO 8601 timestamp, e.g. 2026-11-24T12:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("timestamp must carry a timezone, e.g. 2026-11-24T12:00:00Z")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in year 10000 in UTC, 0001-01-01T00:00:00+01:00 in year 0
        raise ValueError("falls outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z once converted to UTC") from None


def stamp(moment: datetime) -> str:
    """A UTC moment as the record carries it: fixed width (the year zero-padded to 4 digits, microseconds always),
    so that the text sorts the way time does."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class Account(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, str_strip_whitespace=True)

    # Trimming (the config), case and constraints are pydantic's own, in Rust; constraints come first in each
    # Annotated, so that they stay there instead of in a Python wrapper around the validators that follow.
    # Titles and descriptions are the JSON schema's (POST /writer's Account in docs/openapi.json): what is enforced.
    account_id: str = Field(
        alias="id",
        pattern=ID_PATTERN,
        title="Account ID",
        description="1 to 64 letters, digits, `_` or `-`; the record's key (a newer `updatedAt` replaces it).",
    )
    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH),
        AfterValidator(printable),
        Field(title="Name", description="1 to 200 characters once trimmed; no control or format characters."),
    ]
    email: Annotated[
        str,
        StringConstraints(to_lower=True, max_length=MAX_EMAIL_LENGTH, pattern=EMAIL_PATTERN),
        AfterValidator(printable),
        Field(
            title="E-mail address",
            description=(
                "Trimmed and lower-cased, then at most 254 characters: one `@`, no whitespace, a dot in the domain "
                "(`pattern`); no control or format characters. Not checked further (no delivery, no RFC 5322 "
                "syntax), so no `format: email` is claimed."
            ),
        ),
    ]
    status: Annotated[
        Status,
        BeforeValidator(_lower),
        Field(title="Status", description="`active`, `suspended` or `closed` (any case; stored lower-cased)."),
    ]
    balance_cents: StrictInt = Field(
        alias="balanceCents",
        ge=-MAX_BALANCE_CENTS,
        le=MAX_BALANCE_CENTS,
        title="Balance (cents)",
        description='The balance in the currency\'s minor unit: a JSON integer (not `1.0`, `"1"` or `true`).',
    )
    currency: Annotated[
        str,
        StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$"),
        Field(title="Currency", description="Three letters (any case; stored upper-cased); EUR when absent."),
    ] = DEFAULT_CURRENCY
    updated_at: Annotated[datetime, PlainValidator(utc_timestamp)] = Field(
        alias="updatedAt",
        title="Updated at",
        description=(
            "When this state was true: an ISO 8601 timestamp with a timezone (epoch numbers refused), between "
            "0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in UTC. The newest version of a record wins."
        ),
    )

    def as_record(self) -> dict[str, object]:
        """The normalised record, as it travels between functions (JSON-ready, field names as received)."""
        return dict(self._record)

    @cached_property
    def _record(self) -> dict[str, object]:  # built once: the Transformer packs it, the Writer keys and stores it
        return {
            "id": self.account_id,
            "name": self.name,
            "email": self.email,
            "status": self.status,
            "balanceCents": self.balance_cents,
            "currency": self.currency,
            "updatedAt": stamp(self.updated_at),
        }

    @cached_property
    def version(self) -> str:
        """When this state was true, then a digest of it: equal records share a version, ties stay apart."""
        digest = hashlib.sha256(_DIGESTED.encode(self._record).encode()).hexdigest()[:16]
        return f"{self._record['updatedAt']}#{digest}"
