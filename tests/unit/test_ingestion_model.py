"""A refused record's provenance and its log entry's text: one key per record whatever delivers it, and an excerpt
and reason DynamoDB always takes (bounded, valid UTF-8), whatever the record held."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.ingestion.model import (
    EXCERPT_CHARS,
    REASON_CHARS,
    Origin,
    RecordRef,
    Rejection,
    excerpt,
    storable,
    timestamp,
)

FILE = Origin(kind="file", name="s3://data/incoming/a.json", file_id="data/incoming/a.json#etag-1")


def test_a_files_record_is_keyed_by_the_file_version_and_position() -> None:
    key = RecordRef(FILE, 3).key
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    # The name and a message id play no part: a takeover run or a redelivery is the same record.
    same = Origin(kind="file", name="s3://elsewhere/a.json", file_id=FILE.file_id, message_id="m-2")
    assert RecordRef(same, 3).key == key
    assert RecordRef(Origin(kind="file", name=FILE.name, file_id="data/incoming/a.json#etag-2"), 3).key != key
    assert RecordRef(FILE, 4).key != key


def test_an_api_record_is_keyed_by_its_body_and_else_its_message() -> None:
    digest = "d" * 64
    first = Origin(kind="api", name="POST /writer", message_id="m-1", body_digest=digest)
    retry = Origin(kind="api", name="POST /writer", message_id="m-2", body_digest=digest)
    assert RecordRef(first, 0).key == RecordRef(retry, 0).key
    bare = Origin(kind="api", name="POST /writer", message_id="m-1")
    assert RecordRef(bare, 0).key != RecordRef(Origin(kind="api", name="POST /writer", message_id="m-2"), 0).key
    assert RecordRef(bare, 0).key != RecordRef(first, 0).key
    # A file whose id happens to equal an API request's anchor is still another record.
    assert RecordRef(Origin(kind="file", name="x", file_id=digest), 0).key != RecordRef(first, 0).key


def test_the_origins_attributes_name_only_what_it_has() -> None:
    assert FILE.as_attributes() == {
        "kind": "file",
        "name": "s3://data/incoming/a.json",
        "fileId": "data/incoming/a.json#etag-1",
    }
    assert Origin(kind="api", name="POST /writer", message_id="m-1").as_attributes() == {
        "kind": "api",
        "name": "POST /writer",
    }


def test_an_excerpt_is_the_record_as_json_text_with_its_characters() -> None:
    assert excerpt('{"id": 1') == '{"id": 1'  # unreadable text stays as it came
    assert excerpt({"name": "Zoë", "at": datetime(2026, 1, 2, tzinfo=UTC)}) == (
        '{"name": "Zoë", "at": "2026-01-02 00:00:00+00:00"}'
    )
    assert excerpt([1, None, True]) == "[1, null, true]"


def test_a_record_json_cannot_write_is_still_excerpted() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert excerpt(deep) == "[" * 64 + "[...]" + "]" * 64  # Python's own repr recursed into a RecursionError
    looped: dict[str, object] = {"id": "acc-1"}
    looped["self"] = looped
    assert excerpt(looped).startswith("{'id': 'acc-1', 'self': {'id': 'acc-1', 'self': {")
    assert excerpt({"n": float("nan")}) == '{"n": NaN}'


@given(text=st.text(max_size=EXCERPT_CHARS * 2))
@example(text="x" * EXCERPT_CHARS)
@example(text="x" * (EXCERPT_CHARS + 1))
@example(text="a\ud800b")
def test_an_excerpt_is_bounded_and_always_utf8(text: str) -> None:
    cut = excerpt(text)
    cut.encode("utf-8")  # DynamoDB takes it
    if len(text) <= EXCERPT_CHARS:
        assert cut == text.encode("utf-8", "backslashreplace").decode("utf-8")
    else:
        assert cut.endswith("…")
        assert cut.removesuffix("…") == text[:EXCERPT_CHARS].encode("utf-8", "backslashreplace").decode("utf-8")


def test_an_unpaired_surrogate_is_escaped_not_dropped() -> None:
    assert storable("a\ud800b", 10) == "a\\ud800b"
    assert storable("abcdef", 3) == "abc…"
    assert storable("abc", 3) == "abc"


def test_a_rejection_bounds_its_reason_and_keeps_when_its_record_was_taken_up() -> None:
    received_at = timestamp()
    rejection = Rejection.of(
        RecordRef(FILE, 0), "r" * (REASON_CHARS + 5), {"id": "acc-1"}, stage="transformer", received_at=received_at
    )
    assert rejection.reason == "r" * REASON_CHARS + "…"
    assert rejection.excerpt == json.dumps({"id": "acc-1"})
    assert (rejection.stage, rejection.ref, rejection.received_at) == ("transformer", RecordRef(FILE, 0), received_at)
    assert Rejection.of(RecordRef(FILE, 0), "short", "x", stage="writer", received_at=received_at).reason == "short"


def test_a_timestamp_is_now_in_utc() -> None:
    before = datetime.now(UTC)
    stamped = datetime.fromisoformat(timestamp())
    assert stamped.utcoffset() == timedelta(0)
    assert before <= stamped <= datetime.now(UTC)
