"""Account records read straight from their JSON bytes in one pass: the pipeline's common record, at about the
cost of one `json.loads` instead of a strict parse followed by the pydantic model (docs/benchmarks.md).

msgspec decodes a record's bytes into a typed struct in C (types strict: "1" or true is no integer, 1.0 neither;
unknown fields, nesting, invalid UTF-8 and lone surrogates refused), and the rest of the Account model's rules are
applied here with the model's own functions and constants (a timestamp already written as stored, in UTC, is
kept as written once fromisoformat finds it real). This reading only ever *accepts*: whatever it is not
sure of, it leaves (None) to the reference reading (`streaming.parse_record`, then `Account`), which alone
refuses a record and says why, so refusals name the same field as ever. Being sure is narrower than the model:
a record with an unknown field, a value that needs trimming, a status not in lower case, a non-ASCII e-mail
address or currency, or a key written `account_id`, takes the reference reading (correct, only slower).

What the struct cannot see, a key given twice (msgspec keeps the last), is found by counting: in a flat object
of known keys every colon outside a string ends a key, so the colons of the bytes less those in the values kept
equal the keys given only when no key came twice (a `\\u003a` escape, a colon the bytes do not show, is not
counted on: such a record takes the reference reading).

tests/unit/test_account_compiled.py holds the two readings together: for any bytes the Transformer's outcome is
the same either way (the same record packed, or the same refusal), and a plain valid record takes the one pass.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import msgspec

from dropshop.accounts.model import (
    DEFAULT_CURRENCY,
    MAX_BALANCE_CENTS,
    MAX_EMAIL_LENGTH,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    Status,
    stamp,
    utc_timestamp,
)
from dropshop.platform import streaming

# The model's patterns, on text that needs no trimming and no case change to pass them (matched here: msgspec's
# own pattern constraint costs twice as much): ^[A-Za-z0-9_-]{1,64}$, the length bounded by the struct, and
# ^[^@\s]+@[^@\s]+\.[^@\s]+$ with printable() over printable ASCII but the space (U+0021..U+007E) less "@",
# the one address whose lower case is the same in Rust and Python.
_ID = re.compile(r"[A-Za-z0-9_-]+")
_EMAIL = re.compile(r"[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+")
_ESCAPED_COLON = b"\\u003"  # \u003a or \u003A (and, harmlessly, the other \u003X escapes)
# A timestamp written as the record stores it, in UTC: once fromisoformat has found its date and time real, its
# stored text is its own, without converting and formatting it again (the hour bounded in case a Python accepts 24).
_UTC_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}(\.[0-9]{6})?(?:Z|\+00:00)")


class Fields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """The record's fields as JSON names them, typed strictly; lengths as the model bounds them, the status one
    of its words as stored (no case or spaces to fix). Once normalised in place, it encodes as
    `Account.as_record()` does, in the same order."""

    id: Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)]
    email: Annotated[str, msgspec.Meta(max_length=MAX_EMAIL_LENGTH)]
    status: Status
    balanceCents: Annotated[int, msgspec.Meta(ge=-MAX_BALANCE_CENTS, le=MAX_BALANCE_CENTS)]
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)] | msgspec.UnsetType = msgspec.UNSET
    updatedAt: str


_DECODER = msgspec.json.Decoder(Fields, strict=True)
_UNSET = msgspec.UNSET


class Normalised:
    """A record the one-pass reading accepted, already normalised: `Account(...).as_record()` of its bytes, as
    Fields (msgspec encodes it as that dict)."""

    __slots__ = ("record",)

    def __init__(self, record: Fields) -> None:
        self.record = record


def read(raw: bytes) -> object:
    """One record's bytes: Normalised when the one-pass reading accepts them, else as `streaming.parse_record`
    reads them (a JSON value for the model to validate, or an UnreadableRecord)."""
    record = normalised(raw)
    return streaming.parse_record(raw) if record is None else Normalised(record)


def normalised(raw: bytes) -> Fields | None:
    """The normalised record `Account.model_validate(<raw read as strict JSON>).as_record()` gives, or None when
    this reading is not sure the model accepts it (never a record the model would refuse or normalise otherwise)."""
    try:
        fields = _DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    name, email, text, currency = fields.name, fields.email, fields.updatedAt, fields.currency
    if (
        # In a flat object of known keys, each colon outside a string ends a key: more colons than keys and
        # those in the values kept means a key came twice (or a colon is hidden in an escape: not sure).
        raw.count(b":") - name.count(":") - email.count(":") - text.count(":") != (6 if currency is _UNSET else 7)
        or _ESCAPED_COLON in raw
        or not _ID.fullmatch(fields.id)
        or not _EMAIL.fullmatch(email)
        or (currency is not _UNSET and not (currency.isascii() and currency.isalpha()))  # ^[A-Za-z]{3}$
        # printable() (the model's check), hence no control or format character, and nothing to trim: the
        # only white space isprintable() lets through is U+0020
        or not name.isprintable()
        or name[0] == " "
        or name[-1] == " "
    ):
        return None
    try:
        if utc := _UTC_TEXT.fullmatch(text):
            datetime.fromisoformat(text)  # a real date and time, else ValueError
            fields.updatedAt = text[:19] + (utc[1] or ".000000") + "Z"
        else:
            fields.updatedAt = stamp(utc_timestamp(text))  # the model's own reading of a timestamp
    except ValueError:
        return None
    fields.email = email.lower()
    fields.currency = DEFAULT_CURRENCY if currency is _UNSET else currency.upper()
    return fields
