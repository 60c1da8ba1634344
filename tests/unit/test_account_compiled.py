"""The one-pass reading of an account record (`accounts.compiled`) against the reference, the reader's strict reading
followed by the Account model: for any bytes the Transformer's outcome is the same (the same normalised record
accepted, or the same refusal naming the same field), and a plain valid record is read in one pass."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from dropshop.accounts import compiled
from dropshop.accounts.model import MAX_BALANCE_CENTS, Account, stamp, utc_timestamp
from dropshop.ingestion import service
from dropshop.ingestion.model import excerpt
from dropshop.platform.streaming import UnreadableRecord, parse_record
from tests.support.properties import budget

PLAIN = {
    "id": "acc-1",
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "status": "active",
    "balanceCents": 1050,
    "currency": "EUR",
    "updatedAt": "2026-11-24T13:00:00+01:00",
}


def outcome(read: object) -> tuple[str, object]:
    """What the Transformer makes of what the reader yields: the bytes it packs for an accepted record, or what the
    error log keeps of a refused one (the reason, and the record as shown)."""
    if isinstance(read, compiled.Fields):
        return "accepted", msgspec.json.encode(read)
    if isinstance(read, compiled.Refused):
        return "refused", (read.reason, excerpt(read.excerpt))
    verdict = service._account(read)
    if isinstance(verdict, Account):
        return "accepted", msgspec.json.encode(verdict.as_record())
    return "refused", (verdict, excerpt(read.excerpt if isinstance(read, UnreadableRecord) else read))


def assert_same_outcome(raw: bytes) -> tuple[str, object]:
    reference = outcome(parse_record(raw))
    assert outcome(compiled.read(raw)) == reference, raw
    return reference


# ------------------------------------------------------------------ plain records take the one pass


PLAIN_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
PLAIN_NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=200)
LOCAL_PARTS = st.from_regex(r"[a-z0-9._%+-]{1,20}", fullmatch=True)
DOMAINS = st.from_regex(r"[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True)
MOMENTS = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond if moment.second % 2 else 0)
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@st.composite
def plain_records(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(PLAIN_NAMES.filter(lambda text: text.strip() == text and text.isprintable() and text != ""))
    moment = draw(MOMENTS).astimezone(draw(OFFSETS))
    stamp = moment.isoformat()
    if stamp.endswith("+00:00") and draw(st.booleans()):
        stamp = stamp[:-6] + "Z"
    record = {
        "id": draw(PLAIN_IDS),
        "name": name,
        "email": f"{draw(LOCAL_PARTS)}@{draw(DOMAINS)}".upper() if draw(st.booleans()) else "",
        "status": draw(st.sampled_from(["active", "suspended", "closed"])),
        "balanceCents": draw(st.integers(min_value=-MAX_BALANCE_CENTS, max_value=MAX_BALANCE_CENTS)),
        "currency": draw(st.sampled_from(["EUR", "usd", "Chf"])),
        "updatedAt": stamp,
    }
    record["email"] = record["email"] or f"{draw(LOCAL_PARTS)}@{draw(DOMAINS)}"
    if draw(st.booleans()):
        del record["currency"]
    order = draw(st.permutations(list(record)))
    return {key: record[key] for key in order}


def dumps(record: dict[str, Any], *, ascii_only: bool, spaced: bool) -> bytes:
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(record, ensure_ascii=ascii_only, separators=separators).encode("utf-8", "surrogatepass")


@budget(300)
@given(plain_records(), st.booleans(), st.booleans())
@example(PLAIN, True, True)
@example(PLAIN | {"name": "Ünïcødé: 名前 😀", "updatedAt": "0001-01-01T00:00:00Z"}, True, False)
@example(PLAIN | {"updatedAt": "9999-12-31T23:59:59.999999+00:00"}, False, False)
@example(PLAIN | {"email": "jane:doe@example.com", "name": "Doe: Jane"}, True, True)  # colons in values, no key twice
def test_a_plain_valid_record_is_read_in_one_pass_as_the_model_reads_it(
    record: dict[str, Any], ascii_only: bool, spaced: bool
) -> None:
    raw = dumps(record, ascii_only=ascii_only, spaced=spaced)
    assert isinstance(compiled.read(raw), compiled.Fields), raw
    assert assert_same_outcome(raw)[0] == "accepted"


def test_the_generated_benchmark_records_are_read_in_one_pass_or_refused_by_the_model() -> None:
    from tools.pipeline_bench import records

    for record in records(500, invalid_share=0.2):
        raw = json.dumps(record).encode()
        verdict = assert_same_outcome(raw)
        assert isinstance(compiled.read(raw), compiled.Fields) == (verdict[0] == "accepted")


# ------------------------------------------------------------------ anything else: the same outcome


def hostile_texts() -> st.SearchStrategy[str]:
    return st.text(max_size=12) | st.sampled_from(
        ["", " ", " x ", "a:b", "\x00", "a\x00b", "\u202e", "\ud800", "\udfff", "\t", "İ", "ß", "K", "😀", "\\", '"']
    )


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": PLAIN_IDS | hostile_texts() | st.integers() | st.sampled_from([" acc-1", "acc-1\n", "a" * 65, "acc:1"]),
    "name": PLAIN_NAMES | hostile_texts() | st.sampled_from(["  Jane ", "x" * 201, "\u00a0Jane", "Jane\u2028"]),
    "email": st.sampled_from(
        [
            "a@b.co",
            "A@B.CO",
            " a@b.co",
            "a@b.co ",
            "a@@b.co",
            "a@b.",
            "@b.co",
            "a@.co",
            "a b@c.de",
            "ü@b.co",
            "İ@b.co",
            "a@b.c\x7f",
            "a\x1c@b.co",
            "a:b@c.de",
            "a@" + "b" * 250 + ".co",
        ]
    )
    | hostile_texts(),
    "status": st.sampled_from(["active", "ACTIVE", " closed ", "Suspended", "deleted", "actİve", "\u212aactive"])
    | st.integers()
    | st.none(),
    "balanceCents": st.integers(min_value=-MAX_BALANCE_CENTS - 2, max_value=MAX_BALANCE_CENTS + 2)
    | st.sampled_from([10**20, -(10**20), 10**1005, 1.0, 1.5, True, False, "1", None, 1e300]),
    "currency": st.sampled_from(["EUR", "eur", "Eu", "EURO", "ßa", "€UR", "E R", " EUR", "", "ÉUR"])
    | st.none()
    | st.integers(),
    "updatedAt": MOMENTS.map(datetime.isoformat)
    | st.sampled_from(
        [
            "2026-11-24T12:00:00Z",
            "2026-11-24T12:00:00z",
            "2026-11-24 12:00:00+00:00",
            " 2026-11-24T12:00:00Z ",
            "2026-11-24T12:00:00",
            "2026-11-24T12:00:00.1234567+00:00",
            "2026-W48-1T12:00:00+00:00",
            "20261124T120000Z",
            "2026-11-24T24:00:00+00:00",
            "2026-02-30T12:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-11-24T12:00:00+00:00:01",
            "yesterday",
        ]
    )
    | st.integers()
    | st.none(),
}
ALIASES = {"id": "account_id", "balanceCents": "balance_cents", "updatedAt": "updated_at"}


@st.composite
def records(draw: st.DrawFn) -> bytes:
    """A record's bytes: fields plain or hostile, missing, extra, renamed, repeated, escaped, padded."""
    record: dict[str, Any] = {}
    for key, plain in PLAIN.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # missing
        value = draw(VALUES[key]) if draw(st.integers(0, 5)) == 0 else plain  # mostly one field at fault
        record[ALIASES.get(key, key) if draw(st.integers(0, 9)) == 0 else key] = value
    if draw(st.integers(0, 4)) == 0:
        record[draw(st.sampled_from(["nickname", "", "id\x00", "ID", "tags"]))] = draw(
            st.sampled_from([1, "x", [1, {"a": 1}], {"id": "other"}, None])
        )
    raw = dumps(record, ascii_only=draw(st.booleans()), spaced=draw(st.booleans())).decode("utf-8", "surrogatepass")
    if record and draw(st.integers(0, 3)) == 0:  # a key given twice, however it is written
        key = draw(st.sampled_from(sorted(record)))
        again = draw(st.sampled_from([json.dumps(key), json.dumps(key, ensure_ascii=False), '"\\u0069d"']))
        colon = draw(st.sampled_from([":", " :", " : ", "\t:"]))
        raw = raw[:-1] + f", {again}{colon}{json.dumps(PLAIN.get(key, 0))}}}"
    if draw(st.integers(0, 5)) == 0:
        raw = raw.replace(":", "\\u003a", 1) if draw(st.booleans()) else raw.replace('"id"', '"\\u0069d"')
    padding = draw(st.sampled_from(["", " ", "\r", "\t", "\x0b", "\x0c", "\ufeff"]))
    return (padding + raw + padding).encode("utf-8", "surrogatepass")


# A plain record's fields, open for one more: a key again, however written, or another's field
OPEN = b'{"id":"a","name":"n","email":"a@b.co","status":"active","balanceCents":1,"updatedAt":"2026-11-24T12:00:00Z"'


@budget(1000)
@given(records())
@example(OPEN + b',"id":"b"}')
@example(OPEN + b',"id" :"b"}')
@example(OPEN + b',"\\u0069d":"b"}')
@example(OPEN + b',"name":"c:d"}')
@example(OPEN + b',"name":"a\\u003ab"}')
@example(OPEN.replace(b'"n"', b'"\\u0000"') + b"}")
@example(OPEN.replace(b'"n"', b'" n"') + b"}")
@example(OPEN.replace(b'"n"', b'"n "') + b"}")
@example(OPEN + b',"currency":"E R"}')
@example(OPEN.replace(b":1,", b":true,") + b"}")
@example(OPEN.replace(b":1,", b':"1",') + b"}")
@example(OPEN + b',"x":{"y":1,"y":2}}')
# Refused as sure only when its bytes, spaced, are the text json.dumps writes: not -0, not an escape
@example(OPEN.replace(b'"a"', b'"a b"').replace(b":1,", b": -0 ,") + b"}")
@example(OPEN.replace(b'"a"', b'"a b"').replace(b'"n"', b'"Zo\\u00eb"') + b"}")
@example(OPEN.replace(b'"a"', b'"a b"').replace(b'"n"', b'"a\\/b"') + b"}")
@example(OPEN.replace(b'"a@b.co"', b'"x@y"').replace(b'"n"', b'"Zo\xc3\xab: \xf0\x9f\x98\x80 \x7f"') + b"}")
def test_any_record_has_the_same_outcome_in_one_pass_as_through_the_model(raw: bytes) -> None:
    assert_same_outcome(raw)


@budget(500)
@given(plain_records(), st.data())
def test_a_plain_record_with_any_byte_changed_has_the_same_outcome(record: dict[str, Any], data: st.DataObject) -> None:
    raw = bytearray(dumps(record, ascii_only=data.draw(st.booleans()), spaced=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        byte = data.draw(st.integers(0, 255) | st.sampled_from(list(b'":,{}[]\\ \x00\xed\xa0\x80')))
        change = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        if change == "replace":
            raw[at] = byte
        elif change == "insert":
            raw.insert(at, byte)
        else:
            del raw[at]
    assume(raw)
    assert_same_outcome(bytes(raw))


@pytest.mark.parametrize("spaced", [False, True])
@pytest.mark.parametrize(
    "record",
    [
        PLAIN | {"email": "not-an-email"},
        PLAIN | {"id": "acc 1", "name": "Zoë: «Jane», 😀", "balanceCents": -1},
        {"updatedAt": "2026-11-24T12:00:00Z", "email": "a@b", "id": "x", "status": "closed", "name": "n"}
        | {"balanceCents": 7},
    ],
)
def test_a_plain_refusal_is_read_as_sure_and_shown_as_json_dumps_writes_the_record(
    record: dict[str, Any], spaced: bool
) -> None:
    raw = dumps(record, ascii_only=False, spaced=spaced)
    read = compiled.read(b" " + raw + b"\r")
    assert isinstance(read, compiled.Refused)
    assert read.excerpt == json.dumps(record, ensure_ascii=False)


@pytest.mark.parametrize("written", [b'"balanceCents": -0', b'"name": "Zo\\u00eb"'])
def test_a_refusal_written_otherwise_than_json_dumps_writes_it_takes_the_reference_reading(written: bytes) -> None:
    raw = dumps(PLAIN | {"email": "not-an-email"}, ascii_only=True, spaced=True)
    field = written.split(b":")[0]
    start = raw.index(field)
    raw = raw[:start] + written + raw[raw.index(b",", start) :]
    assert not isinstance(compiled.read(raw), compiled.Refused)
    assert assert_same_outcome(raw)[1][1] == json.dumps(json.loads(raw), ensure_ascii=False)


def test_a_key_given_twice_is_refused_naming_it_as_ever() -> None:
    raw = json.dumps(PLAIN)[:-1].encode() + b', "balanceCents": -999}'
    assert outcome(compiled.read(raw))[1][0] == "balanceCents: key 'balanceCents' appears more than once"


# ------------------------------------------------------------------ timestamps kept as written


def the_models_stamp(text: str) -> str | None:
    try:
        return stamp(utc_timestamp(text))
    except ValueError:
        return None


def kept_or_refused(text: str) -> str | None:
    try:
        return compiled.stored_timestamp(text)
    except ValueError:
        return None


ZONES = st.sampled_from(["Z", "+00:00", "z", "-00:00", "+00:00:00", "+01:00", "", "+0000"])
FRACTIONS = st.sampled_from(["", ".000000", ".123456", ".5", ".123", ",123456", ".1234567"])


@budget(500)
@given(MOMENTS, FRACTIONS, ZONES, st.data())
@example(datetime(2026, 11, 24, 12), "", "+00:00", None)
@example(datetime(2026, 11, 24, 12), ".123456", "Z", None)
@example(datetime(2026, 11, 24, 12), "", "+00:00", "2026-11-24 12:00:00+00:00")
@example(datetime(2026, 11, 24, 12), "", "+00:00", "2026-11-24T12:00:00.12345Z+00:00")
@example(datetime(2026, 11, 24, 12), "", "+00:00", "2026-11-24T12:00:00.1234+00:00Z")
@example(datetime(2026, 11, 24, 12), "", "+00:00", "2026-11-24T12:00:00.12345\u0661Z")
def test_a_timestamp_is_stored_as_the_model_stores_it(
    moment: datetime, fraction: str, zone: str, data: st.DataObject | str | None
) -> None:
    text = data if isinstance(data, str) else moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + zone
    # Any character changed, mostly where the stored form has a separator (or the hour's first digit: T24:00:00).
    if isinstance(data, st.DataObject) and data.draw(st.booleans()):
        at = data.draw(st.sampled_from([4, 7, 10, 11, 13, 16, 19]) | st.integers(0, len(text) - 1))
        character = data.draw(st.sampled_from(list("0123456789:-T t.,Z+Ⅳ٣")) | st.characters())
        text = text[:at] + character + text[at + 1 :]
    assert kept_or_refused(text) == the_models_stamp(text), text


@pytest.mark.parametrize(
    "text",
    ["2026-11-24T24:00:00+00:00", "2026-11-24T23:59:60Z", "2026-02-29T12:00:00Z", "0000-01-01T00:00:00Z"],
)
def test_a_timestamp_the_model_refuses_is_never_kept(text: str) -> None:
    assert kept_or_refused(text) == the_models_stamp(text) is None
