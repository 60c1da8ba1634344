"""Account records read straight from their JSON bytes in one pass: the pipeline's common record, at about a
fifth of the cost of a strict JSON parse followed by the pydantic model (docs/benchmarks.md).

msgspec decodes a record's bytes into a typed struct in C (types strict: "1" or true is no integer, 1.0 neither;
unknown fields, nesting, invalid UTF-8 and lone surrogates refused), and the rest of the Account model's rules are
applied here with the model's own functions and constants. This reading only ever *accepts*: whatever it is not
sure of, it leaves (None) to the reference reading (`streaming.parse_record`, then `Account`), which alone
refuses a record and says why, so refusals name the same field as ever. Being sure is narrower than the model:
a record with an unknown field, a value that needs trimming, a non-ASCII e-mail address or currency, or a key
written `account_id`, takes the reference reading (correct, only slower).

What the struct cannot see, a key given twice (msgspec keeps the last), is found by counting: in a flat object
of known keys every colon outside a string ends a key, so the colons of the bytes less those in the values kept
equal the keys given only when no key came twice (a `\\u003a` escape, a colon the bytes do not show, is not
counted on: such a record takes the reference reading).

tests/unit/test_account_compiled.py holds the two readings together: for any bytes, when this one accepts, the
reference accepts the same record.
"""

from __future__ import annotations

import re
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

# The model's patterns, on text that needs no trimming and no case change to pass them: ^[A-Za-z0-9_-]{1,64}$ (the
# length bounded by the struct), and ^[^@\s]+@[^@\s]+\.[^@\s]+$ with printable() over printable ASCII but
# the space (U+0021..U+007E) less "@", the one address whose lower case is the same in Rust and Python.
_ID = re.compile(r"[A-Za-z0-9_-]+")
_EMAIL = re.compile(r"[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+")
_ESCAPED_COLON = b"\\u003"  # \u003a or \u003A (and, harmlessly, the other \u003X escapes)


class _Fields(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The record's fields as JSON names them, typed strictly; lengths as the model bounds them, the status one
    of its words as they are stored (no case or spaces to fix)."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)]
    email: Annotated[str, msgspec.Meta(max_length=MAX_EMAIL_LENGTH)]
    status: Status
    balanceCents: Annotated[int, msgspec.Meta(ge=-MAX_BALANCE_CENTS, le=MAX_BALANCE_CENTS)]
    updatedAt: str
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)] | msgspec.UnsetType = msgspec.UNSET


_DECODER = msgspec.json.Decoder(_Fields, strict=True)


class Normalised:
    """A record the one-pass reading accepted, already normalised: `Account(...).as_record()` of its bytes."""

    __slots__ = ("record",)

    def __init__(self, record: dict[str, object]) -> None:
        self.record = record


def read(raw: bytes) -> object:
    """One record's bytes: Normalised when the one-pass reading accepts them, else as `streaming.parse_record`
    reads them (a JSON value for the model to validate, or an UnreadableRecord)."""
    record = normalised(raw)
    return streaming.parse_record(raw) if record is None else Normalised(record)


def normalised(raw: bytes) -> dict[str, object] | None:
    """The normalised record `Account.model_validate(<raw read as strict JSON>).as_record()` gives, or None when
    this reading is not sure the model accepts it (never a record the model would refuse or normalise otherwise)."""
    try:
        fields = _DECODER.decode(raw)
        moment = utc_timestamp(fields.updatedAt)  # the model's own reading of a timestamp
    except (msgspec.DecodeError, ValueError):  # ValueError: bad timestamps, and bytes that are not UTF-8
        return None
    name, email, currency = fields.name, fields.email, fields.currency
    if currency is msgspec.UNSET:
        currency, keys = DEFAULT_CURRENCY, 6
    elif currency.isascii() and currency.isalpha():  # ^[A-Za-z]{3}$, the length bounded by the struct
        currency, keys = currency.upper(), 7
    else:
        return None
    if (
        # In a flat object of known keys, each colon outside a string ends a key: more colons than keys and
        # those in the values kept means a key came twice (or a colon is hidden in an escape: not sure).
        raw.count(b":") - name.count(":") - email.count(":") - fields.updatedAt.count(":") != keys
        or _ESCAPED_COLON in raw
        or not _ID.fullmatch(fields.id)
        # printable() (the model's check), hence no control or format character, and nothing to trim: the
        # only white space isprintable() lets through is U+0020
        or not name.isprintable()
        or name[0] == " "
        or name[-1] == " "
        or not _EMAIL.fullmatch(email)
    ):
        return None
    return {
        "id": fields.id,
        "name": name,
        "email": email.lower(),
        "status": fields.status,
        "balanceCents": fields.balanceCents,
        "currency": currency,
        "updatedAt": stamp(moment),
    }
