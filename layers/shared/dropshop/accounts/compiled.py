"""Account records read straight from their JSON bytes in one pass: the pipeline's common record, at about the
cost of one `json.loads` instead of a strict parse followed by the pydantic model (docs/benchmarks.md).

msgspec decodes a record's bytes into a typed struct in C (types strict: "1" or true is no integer, 1.0 neither;
unknown fields, nesting, invalid UTF-8 and lone surrogates refused), and the rest of the Account model's rules are
applied here with the model's own functions and constants (a timestamp already written as stored, in UTC, is
kept as written once fromisoformat finds it real). Whatever this reading is not sure of, it leaves to the reference
reading (`streaming.parse_record`, then `Account`), so refusals read as ever. It is sure of a plain record the model
accepts, and of the model's most common refusal, an id or e-mail address of printable ASCII that fails the model's
pattern in a record otherwise accepted, written with no escape and a balance other than zero: refused in pydantic's
words without the model, the record shown as the error log shows the reference reading's value (its own bytes,
spaced as `json.dumps` spaces them). Being sure is narrower than the model: a record with an unknown field, a value that
needs trimming, a status not in lower case, a non-ASCII e-mail address or currency, any other fault, or a key
written `account_id`, takes the reference reading (correct, only slower).

What the struct cannot see, a key given twice (msgspec keeps the last), is found by counting: in a flat object
of known keys every colon outside a string ends a key, so the colons of the bytes less those in the values kept
equal the keys given only when no key came twice (a `\\u003a` escape, a colon the bytes do not show, is not
counted on: such a record takes the reference reading).

tests/unit/test_account_compiled.py holds the two readings together: for any bytes the Transformer's outcome is
the same either way (the same record packed, or the same refusal in the same words), a plain valid record takes the
one pass and a plain refusal is read as sure.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import msgspec

from dropshop.accounts.model import (
    DEFAULT_CURRENCY,
    EMAIL_PATTERN,
    ID_PATTERN,
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
# Both at once, on the id and the address joined by a newline (which neither pattern lets through, so the newline
# is where one ends and the other begins): one search instead of two for every valid record.
_ID_AND_EMAIL = re.compile(f"{_ID.pattern}\n{_EMAIL.pattern}")
_ESCAPED_COLON = b"\\u003"  # \u003a or \u003A (and, harmlessly, the other \u003X escapes)
# A timestamp written as the record stores it, in UTC, but for its zone (Z or +00:00) and a fraction of 0 or 6
# digits: fromisoformat reads only ASCII digits between the separators, so once it has found such a text a real
# moment, the stored text is the text's own digits, without converting and formatting them again.
_UTC_ZONES = frozenset({"Z", "+00:00"})
_SEPARATORS = "--T::"  # text[4:17:3] of YYYY-MM-DDTHH:MM:SS


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


# How the model refuses a text its pattern does not match, in pydantic's words.
_ID_REFUSAL = f"id: String should match pattern '{ID_PATTERN}'"
_EMAIL_REFUSAL = f"email: String should match pattern '{EMAIL_PATTERN}'"
# Printable ASCII (the space included) neither starting nor ending with a space: text the model's trimming and
# lower-casing leave as it is for its patterns (lower-casing ASCII moves no "@", "." or space), and on which
# _ID and _EMAIL say what the model's patterns say.
_TRIMMED_ASCII = re.compile(r"(?:[!-~](?:[ -~]*[!-~])?)?")


class Refused:
    """A record the model refuses, as sure as its own reading: why, in the model's words (what the error log keeps),
    and the record as text, as `json.dumps` writes the reference reading's value (what the error log shows)."""

    __slots__ = ("excerpt", "reason")

    def __init__(self, reason: str, excerpt: str) -> None:
        self.reason = reason
        self.excerpt = excerpt


def read(raw: bytes) -> object:
    """One record's bytes: its Fields, normalised as `Account(...).as_record()` orders and writes them, when the
    one-pass reading accepts them; Refused when it is as sure the model refuses them; else as
    `streaming.parse_record` reads them (a JSON value for the model to validate, or an UnreadableRecord)."""
    try:
        fields = _DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return streaming.parse_record(raw)
    name, email, text, currency = fields.name, fields.email, fields.updatedAt, fields.currency
    keys = 6 if currency is _UNSET else 7
    colons = raw.count(b":") - text.count(":")
    if (
        # In a flat object of known keys, each colon outside a string ends a key: more colons than keys and
        # those in the values kept means a key came twice (or a colon is hidden in an escape: not sure). Names
        # and addresses rarely hold one, so they are counted only then. The backslash, found by memchr, spares
        # most records the slower search for the escape (bytes.find: `in` costs ten times as much on bytes).
        (colons != keys and colons - name.count(":") - email.count(":") != keys)
        or (raw.find(b"\\") >= 0 and raw.find(_ESCAPED_COLON) >= 0)
        or (currency is not _UNSET and not (currency.isascii() and currency.isalpha()))  # ^[A-Za-z]{3}$
        # printable() (the model's check), hence no control or format character, and nothing to trim: the
        # only white space isprintable() lets through is U+0020
        or not name.isprintable()
        or name[0] == " "
        or name[-1] == " "
    ):
        return streaming.parse_record(raw)
    try:
        stored = stored_timestamp(text)
    except ValueError:
        return streaming.parse_record(raw)
    if not _ID_AND_EMAIL.fullmatch(f"{fields.id}\n{email}"):
        return _refused(raw, fields)
    fields.updatedAt = stored
    fields.email = email.lower()
    fields.currency = DEFAULT_CURRENCY if currency is _UNSET else currency.upper()
    return fields


def stored_timestamp(text: str) -> str:
    """`stamp(utc_timestamp(text))`, the model's reading of a timestamp as stored, or its ValueError; a text in
    UTC already written as stored (but for its zone and fraction) is kept as written once found real."""
    zone = text[19:]  # after YYYY-MM-DDTHH:MM:SS: the zone, or a fraction of six digits and the zone
    if text[4:17:3] == _SEPARATORS and (zone in _UTC_ZONES or (zone[:1] == "." and zone[7:] in _UTC_ZONES)):
        datetime.fromisoformat(text)  # digits where the stored form has digits, a real date and time, else ValueError
        return text[:26] + "Z" if zone[0] == "." else text[:19] + ".000000Z"
    return stamp(utc_timestamp(text))


def _refused(raw: bytes, fields: Fields) -> object:
    """A record whose other fields the model accepts: Refused when its id and e-mail address each pass or are
    printable ASCII with nothing to trim that fails the pattern (the model's verdict and words, for sure), and its
    bytes are the text the error log shows once spaced; else the reference reading."""
    # The error log shows a refused record as json.dumps(value, ensure_ascii=False) writes the reference reading's
    # value. Bytes msgspec decoded as Fields, with no key twice, are that text once spaced as json.dumps spaces it
    # (msgspec.json.format, indent 0; keys in their order), at a sixth of the cost, when they hold no escape (each
    # string then holds nothing json.dumps escapes and is written as it is) and their one number is not zero
    # (which may be written -0, that json.dumps writes 0). Others are shown by the reference reading.
    if fields.balanceCents == 0 or raw.find(b"\\") >= 0:
        return streaming.parse_record(raw)
    problems = []
    for value, plain, refusal in ((fields.id, _ID, _ID_REFUSAL), (fields.email, _EMAIL, _EMAIL_REFUSAL)):
        if plain.fullmatch(value):
            continue
        if not _TRIMMED_ASCII.fullmatch(value):  # " a@b.co" is trimmed and accepted, "a\x1c@b.co" refused otherwise
            return streaming.parse_record(raw)
        problems.append(refusal)
    return Refused("; ".join(problems), msgspec.json.format(raw, indent=0).decode())
