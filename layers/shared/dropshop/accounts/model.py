"""An account record, validated and normalised: what the pipeline accepts is always in this shape.

Its text follows the REST API's rule (`platform/model.py`): no control or format characters (NUL, escapes, bidi
overrides), whichever door the record came in by."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
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
    field_serializer,
)

from dropshop.platform.model import Name, printable

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_BALANCE_CENTS = 10**15


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _utc_timestamp(value: object) -> datetime:
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


class Account(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, str_strip_whitespace=True)

    account_id: str = Field(alias="id", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: Annotated[Name, StringConstraints(max_length=200)]
    email: Annotated[str, BeforeValidator(_lower), Field(max_length=254, pattern=_EMAIL), AfterValidator(printable)]
    status: Annotated[Literal["active", "suspended", "closed"], BeforeValidator(_lower)]
    balance_cents: StrictInt = Field(alias="balanceCents", ge=-MAX_BALANCE_CENTS, le=MAX_BALANCE_CENTS)
    currency: Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    updated_at: Annotated[datetime, PlainValidator(_utc_timestamp)] = Field(alias="updatedAt")

    @field_serializer("updated_at")
    def _iso(self, value: datetime) -> str:
        # Fixed width (the year zero-padded to 4 digits) and UTC, so that the text sorts the way time does.
        return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    def as_record(self) -> dict[str, object]:
        """The normalised record, as it travels between functions (JSON-ready, field names as received)."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def version(self) -> str:
        """When this state was true, then a digest of it: equal records share a version, ties stay apart."""
        digest = hashlib.sha256(json.dumps(self.as_record(), sort_keys=True).encode()).hexdigest()[:16]
        return f"{self.as_record()['updatedAt']}#{digest}"
