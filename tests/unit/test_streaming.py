"""Reading records out of JSON arrays, NDJSON, single objects, gzip and CSV, as streams, whatever the bytes."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import struct
import zlib
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform.json_depth import deeper_than
from dropshop.platform.streaming import (
    GZIP_MAGIC,
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    MAX_RECORD_BYTES,
    OversizedInteger,
    UnreadableFile,
    UnreadableRecord,
    _parse_strictly,
    count_csv_rows,
    decompress_for_chunks,
    parse_record,
    records,
)
from tests.support.properties import budget
from tools.bombs import gzip_bomb


class Trickle(io.RawIOBase):
    """A stream that hands out a few bytes per read, like a network body does."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        return self._data.read(self._step if size < 0 else min(size, self._step))

    def readable(self) -> bool:
        return True


def read_all(
    data: bytes, step: int = 7, max_bytes: int = 1 << 40
) -> tuple[list[tuple[int, object]], UnreadableFile | None]:
    read: list[tuple[int, object]] = []
    try:
        for entry in records(Trickle(data, step), max_bytes=max_bytes):
            read.append(entry)
    except UnreadableFile as unreadable:
        return read, unreadable
    return read, None


def reasons(read: list[tuple[int, object]]) -> dict[int, str]:
    return {position: r.reason for position, r in read if isinstance(r, UnreadableRecord)}


def test_a_json_array_yields_its_items_at_the_byte_offsets_of_their_first_bytes() -> None:
    data = b'  \n [{"id": 1}, {"id": 2}, "x", 3.5]'
    assert list(records(Trickle(data))) == [(5, {"id": 1}), (16, {"id": 2}), (27, "x"), (32, 3.5)]


def test_ndjson_yields_records_at_their_byte_offsets_and_isolates_broken_lines() -> None:
    data = b'{"id": 1}\n\n{"id": 2\n{"id": 3}'
    read = list(records(Trickle(data, step=3)))
    assert [(n, r) for n, r in read if not isinstance(r, UnreadableRecord)] == [(0, {"id": 1}), (20, {"id": 3})]
    (broken,) = [r for n, r in read if isinstance(r, UnreadableRecord) and n == 11]
    assert broken.excerpt == '{"id": 2'


def test_ndjson_positions_count_the_bytes_of_leading_blank_lines_and_crlf() -> None:
    data = b'\r\n\n  \r\n{"id": 1}\r\n\r\n{"id": 2}\r\n'
    assert list(records(Trickle(data, step=2))) == [(7, {"id": 1}), (20, {"id": 2})]


def test_a_byte_order_mark_is_skipped_and_counted_in_positions() -> None:
    assert list(records(Trickle(b'\xef\xbb\xbf[{"id": 1}]', step=1))) == [(4, {"id": 1})]
    assert list(records(io.BytesIO(b'\xef\xbb\xbf{"id": 1}\n{"id": 2}\n'))) == [(3, {"id": 1}), (13, {"id": 2})]


def test_gzip_is_detected_by_its_magic_bytes_and_streamed() -> None:
    items = [json.dumps({"id": i}).encode() for i in range(5000)]
    plain = b"\xef\xbb\xbf[" + b",".join(items) + b"]"
    offsets = list(itertools.accumulate((len(item) + 1 for item in items[:-1]), initial=4))  # into the plain bytes
    assert [p for p, _ in records(Trickle(gzip.compress(plain), step=999))] == offsets


def test_a_corrupt_gzip_stream_breaks_off_after_the_records_before_it() -> None:
    compressed = gzip.compress(b"\n".join(json.dumps({"id": i}).encode() for i in range(20000)))
    read, unreadable = read_all(compressed[: len(compressed) // 2], step=4096)
    assert unreadable is not None
    assert "gzip" in unreadable.reason
    assert read
    last_position, last = read[-1]
    assert unreadable.position == last_position + len(json.dumps(last)) + 1, "the start of the line it broke in"


LINES = [json.dumps({"id": i}).encode() for i in range(20000)]
GZIPPED_LINES = gzip.compress(b"\n".join(LINES))
LINE_STARTS = list(itertools.accumulate((len(line) + 1 for line in LINES), initial=0))


@budget(30)
@given(cut=st.integers(min_value=30, max_value=len(GZIPPED_LINES) - 9))
@example(cut=len(GZIPPED_LINES) // 2)
def test_a_truncated_gzip_stream_yields_every_line_it_holds_whole_before_the_break(cut: int) -> None:
    """Every record decompressed before a corrupt or truncated gzip stream breaks is read, none lost with the
    block being decompressed when it broke (GzipFile.read dropped up to 64 KiB of them); the break is at the start
    of the line it broke in, where a chunk planned on the same bytes ends (decompress_for_chunks)."""
    available = zlib.decompressobj(wbits=31).decompress(GZIPPED_LINES[:cut])
    whole_lines = available.count(b"\n")
    read, unreadable = read_all(GZIPPED_LINES[:cut], step=4096)
    assert unreadable is not None
    assert [position for position, _ in read] == LINE_STARTS[:whole_lines]
    assert unreadable.position == LINE_STARTS[whole_lines]


def test_a_pretty_printed_object_is_one_record_at_its_first_byte() -> None:
    data = b'\n\n{\n  "id": 1,\n  "tags": ["a", "}"]\n}\n\n'
    assert list(records(Trickle(data))) == [(2, {"id": 1, "tags": ["a", "}"]})]


def test_an_empty_file_has_no_records() -> None:
    for data in (b"", b"  \n", b"[]", b"\xef\xbb\xbf \n[ ]\n"):
        assert list(records(io.BytesIO(data))) == []


def test_a_file_that_is_not_json_is_unreadable_at_position_zero() -> None:
    read, unreadable = read_all(b"id,name\n1,x\n")
    assert read == []
    assert unreadable is not None
    assert unreadable.position == 0
    assert "not JSON" in unreadable.reason


def test_a_truncated_array_yields_what_came_before_the_break() -> None:
    read, unreadable = read_all(b'[{"id": 1}, {"id": 2}, {"id"')
    assert read == [(1, {"id": 1}), (12, {"id": 2})]
    assert unreadable is not None
    assert unreadable.position == 23, "the broken record's first byte"


def test_an_integer_beyond_64_bits_does_not_stop_the_array() -> None:
    data = b'[{"n": 123456789012345678901234567890}, {"n": 1' + b"0" * 5000 + b'}, {"id": 3}]'
    read, unreadable = read_all(data, step=1000)
    assert unreadable is None
    assert read[0] == (1, {"n": 123456789012345678901234567890})
    assert isinstance(read[1][1], dict)
    assert isinstance(read[1][1]["n"], OversizedInteger)
    assert read[2] == (data.index(b'{"id": 3}'), {"id": 3})


def test_records_nested_too_deep_are_refused_without_being_built_and_neighbours_go_on() -> None:
    deep_array = b"[" * 20_000 + b"]" * 20_000
    deep_object = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
    data = b'[{"id": 0}, ' + deep_array + b', {"id": 2}]'
    read, _ = read_all(data, step=4096)
    assert reasons(read) == {12: f"the record is nested deeper than {MAX_DEPTH} levels"}
    assert read[2] == (data.index(b'{"id": 2}'), {"id": 2})
    data = b'{"id": 1}\n' + deep_object + b'\n{"id": 3}\n'
    read, _ = read_all(data, step=4096)
    assert reasons(read) == {10: f"the record is nested deeper than {MAX_DEPTH} levels"}
    assert read[-1] == (data.index(b'{"id": 3}'), {"id": 3})


def test_a_record_larger_than_the_limit_is_refused_and_not_kept() -> None:
    huge = b'{"x": "' + b"a" * (MAX_RECORD_BYTES + 1) + b'"}'
    for data in (b"[" + huge + b', {"id": 2}]', huge + b'\n{"id": 2}\n'):
        read, unreadable = read_all(data, step=65536)
        assert unreadable is None
        (refused,) = [r for _, r in read if isinstance(r, UnreadableRecord)]
        assert "larger than" in refused.reason
        assert len(refused.excerpt) <= 500
        assert read[-1][1] == {"id": 2}


def test_broken_items_inside_an_array_are_refused_one_by_one() -> None:
    data = b'[{"id": 0}, {"id" 1}, , "a]b", {"id": 4}, [1, {"x": "]"}], "\xff"]'
    read, unreadable = read_all(data)
    assert unreadable is None
    assert set(reasons(read)) == {data.index(b'{"id" 1}'), data.index(b", ,") + 2, data.index(b'"\xff"')}
    assert [r for _, r in read if not isinstance(r, UnreadableRecord)] == [{"id": 0}, "a]b", {"id": 4}, [1, {"x": "]"}]]


def test_csv_rows_are_counted_without_the_header_and_with_quoted_newlines() -> None:
    data = b'id,note\n1,"two\nlines"\n2,plain\n3,last'
    assert count_csv_rows(Trickle(data)) == 3
    assert count_csv_rows(io.BytesIO(b"")) == 0


MIB = 1024 * 1024
RECORDS = b'{"id": 1}\n{"id": 2}\n'


@pytest.mark.parametrize("padding", [b" ", b"\n", b"\r\n", b"\t \n"])
@pytest.mark.parametrize(
    ("head", "tail", "before", "next_position"),
    [
        (RECORDS, b'{"id": 3}\n', [(0, {"id": 1}), (10, {"id": 2})], 20),
        (b'[{"id": 1}, {"id": 2},', b'{"id": 3}]', [(1, {"id": 1}), (12, {"id": 2})], 22),
        (b"", RECORDS, [], 0),
    ],
    ids=["ndjson", "array", "padding-first"],
)
def test_a_gzip_bomb_of_padding_stops_at_max_bytes_after_the_records_before_it(
    padding: bytes, head: bytes, tail: bytes, before: list[tuple[int, object]], next_position: int
) -> None:
    bomb = gzip_bomb(head, padding, 8 * MIB, tail)  # eight times the limit: what is past it is never read
    assert len(bomb) < 16 * 1024  # small compressed, large expanded
    read: list[tuple[int, object]] = []
    with pytest.raises(UnreadableFile) as unreadable:
        read.extend(records(io.BytesIO(bomb), max_bytes=MIB))
    assert read == before
    position = unreadable.value.position
    if head == RECORDS and b"\n" in padding:  # NDJSON: at the start of the blank line where reading stopped
        assert next_position < position <= MIB
        assert zlib.decompressobj(wbits=31).decompress(bomb, position)[position - 1 :] == b"\n"
    else:  # just after the last record (its newline or comma), or the file's start
        assert position == next_position
    assert "more than 1,048,576 bytes once decompressed" in unreadable.value.reason


@pytest.mark.parametrize("padding", [b"\n", b"\r\n", b" \n"])
def test_padding_within_max_bytes_is_skipped_and_counted_in_the_next_records_position(padding: bytes) -> None:
    blank_lines = 200_000
    data = gzip_bomb(b'{"id": 1}\n', padding, blank_lines * len(padding), b'{"id": 2}\n')
    after_padding = 10 + blank_lines * len(padding)
    assert list(records(io.BytesIO(data), max_bytes=MIB)) == [(0, {"id": 1}), (after_padding, {"id": 2})]


def test_padding_before_an_array_item_is_not_counted_as_the_item() -> None:
    data = b'[{"id": 1},' + b" \n" * MIB + b'{"id": 2}]'
    assert list(records(io.BytesIO(data))) == [(1, {"id": 1}), (11 + 2 * MIB, {"id": 2})]


# ------------------------------------------------------------------ properties

# JSON has no NaN or Infinity (strict_json refuses them: test_nan_and_infinity_refuse_their_record).
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@budget(150)
@given(st.lists(JSON_VALUES, max_size=12), st.integers(min_value=1, max_value=64), st.booleans())
@example([{"n": 10**30}, {"s": "\ud800"}], 1, True)
def test_any_json_array_round_trips_record_by_record(items: list[Any], step: int, compress: bool) -> None:
    data = json.dumps(items).encode()
    read, unreadable = read_all(gzip.compress(data) if compress else data, step)
    assert unreadable is None
    offsets = itertools.accumulate((len(json.dumps(item)) + len(", ") for item in items), initial=1)
    assert read == list(zip(offsets, items, strict=False))


@budget(150)
@given(
    st.lists(st.one_of(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4), st.binary(max_size=40))),
    st.sampled_from([b"\n", b"\r\n"]),
    st.integers(min_value=0, max_value=3),
    st.booleans(),
)
@example([b"{", {"id": 1}], b"\n", 2, True)
# A first line opening with '[' makes the file a JSON array (found in a combined run: Hypothesis also draws
# constants from the project's loaded modules, so the derandomized examples there differ from a lone run).
@example([b"[]"], b"\n", 0, False)
@example([b"[\x00]", {}], b"\n", 0, False)
def test_every_ndjson_line_is_one_record_or_one_refusal_at_its_first_byte(
    lines: list[dict[str, Any] | bytes], newline: bytes, leading_blank_lines: int, bom: bool
) -> None:
    encoded = [json.dumps(line).encode() if isinstance(line, dict) else line.replace(b"\n", b" ") for line in lines]
    body = newline * leading_blank_lines + newline.join(encoded) + newline
    data = (b"\xef\xbb\xbf" if bom else b"") + body
    read, unreadable = read_all(data)
    if body.lstrip().startswith(b"["):  # read as one JSON array: its items in order, then at most one break
        positions = [p for p, _ in read] + ([unreadable.position] if unreadable else [])
        assert positions == sorted(set(positions))
        return
    if unreadable is not None:  # only a file whose first significant line is not JSON-ish at all
        assert unreadable.position == 0
        assert read == []
        return
    line_starts = itertools.accumulate(
        (len(line) + len(newline) for line in encoded),
        initial=len(data) - len(body) + len(newline) * leading_blank_lines,
    )
    expected = {
        start + len(line) - len(line.lstrip()): original
        for start, line, original in zip(line_starts, encoded, lines, strict=False)
        if line.strip()
    }
    if len(read) == 1 and len(expected) > 1:  # a pretty-printed single object: only when lines join up as one
        return
    assert [p for p, _ in read] == sorted(expected)
    for position, record in read:
        if isinstance(expected[position], dict):
            assert record == expected[position]


@budget(300)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
@example(b"[" * 40 + b"1", 3)
@example(b'["\\', 1)
def test_arbitrary_bytes_never_raise_anything_but_unreadable_file(data: bytes, step: int) -> None:
    read, unreadable = read_all(data, step)
    positions = [p for p, _ in read] + ([unreadable.position] if unreadable else [])
    assert len(positions) == len(set(positions)), "every position is reported once"


# Small records: the limit is drawn at every byte of the file (the records' contents are the round trip's
# business), so a few short fields cross each boundary: within a record, between two, at the file's end.
SHORT_RECORDS = st.lists(
    st.dictionaries(
        st.text(max_size=4), st.none() | st.integers() | st.text(max_size=6) | st.lists(st.booleans()), max_size=3
    ),
    max_size=5,
)


@budget(150)
@given(
    SHORT_RECORDS,
    st.sampled_from([b"\n", b"\r\n", b" "]),
    st.booleans(),
    st.booleans(),
    st.data(),
)
def test_max_bytes_cuts_a_file_to_a_prefix_and_never_touches_one_within_it(
    items: list[dict[str, Any]], separator: bytes, as_array: bool, compress: bool, data: st.DataObject
) -> None:
    plain = json.dumps(items).encode() if as_array else b"".join(json.dumps(i).encode() + b"\n" for i in items)
    plain = plain.replace(b", ", b"," + separator)
    max_bytes = data.draw(st.integers(min_value=0, max_value=len(plain) + 2), label="max_bytes")
    stored = gzip.compress(plain) if compress else plain
    whole = read_all(stored)
    read, unreadable = read_all(stored, max_bytes=max_bytes)
    if len(plain) <= max_bytes:
        assert (read, unreadable) == whole
        return
    assert unreadable is not None
    assert "once decompressed" in unreadable.reason
    assert read == whole[0][: len(read)]
    assert unreadable.position not in {p for p, _ in read}  # its LogTable entry never stands in for a record
    assert all(unreadable.position > p for p, _ in read)


# ------------------------------------------------------------------ strict JSON (issue 24: as strict as the REST API)


def test_a_duplicate_key_refuses_its_record_naming_the_key_not_last_wins() -> None:
    data = b'{"id":"a","balanceCents":1,"balanceCents":-999}\n{"id":"b"}\n[1,{"x":{"k":1,"k":2}}]\n'
    read = list(records(io.BytesIO(data)))
    assert reasons(read) == {
        0: "balanceCents: key 'balanceCents' appears more than once",
        data.index(b"[1,"): "k: key 'k' appears more than once",
    }
    assert read[1] == (data.index(b'{"id":"b"}'), {"id": "b"})


def test_nan_and_infinity_refuse_their_record() -> None:
    data = b'{"a":NaN}\n{"a":-Infinity}\n{"a":1e999}\n{"a":1e308}\n'
    read = list(records(io.BytesIO(data)))
    assert sorted(reasons(read)) == [0, 10, 26]
    assert read[3] == (38, {"a": 1e308})


KEYS = st.text(max_size=6)


@budget(200)
@given(
    st.dictionaries(KEYS, JSON_VALUES, min_size=1, max_size=5),
    st.data(),
    st.sampled_from(["ndjson", "array", "single"]),
    st.booleans(),
)
@example({"balanceCents": 1, "id": "a"}, None, "ndjson", False)  # the issue's own: 1 then -999
def test_a_key_written_twice_anywhere_in_a_record_refuses_that_record_alone(
    record: dict[str, Any], data: st.DataObject | None, shape: str, nested: bool
) -> None:
    key = data.draw(st.sampled_from(sorted(record)), label="key") if data else "balanceCents"
    duplicate = json.dumps(record)[:-1] + f", {json.dumps(key)}: -999}}"
    poison = f'{{"outer": {duplicate}}}' if nested else duplicate
    neighbour = {"id": "neighbour"}
    if shape == "array":
        body = f"[{json.dumps(neighbour)}, {poison}, {json.dumps(neighbour)}]".encode()
    elif shape == "ndjson":
        body = f"{json.dumps(neighbour)}\n{poison}\n{json.dumps(neighbour)}\n".encode()
    else:
        body = poison.encode()
    read, unreadable = read_all(body)
    assert unreadable is None
    refused = [r for _, r in read if isinstance(r, UnreadableRecord)]
    assert len(refused) == 1
    assert refused[0].reason == f"{key or 'record'}: key {key!r} appears more than once"  # an empty key: no name
    assert [r for _, r in read if not isinstance(r, UnreadableRecord)] == ([] if shape == "single" else [neighbour] * 2)


# ------------------------------------------------------------------ the fast reading is the strict reading


def read_strictly(raw: bytes) -> object:
    """The reference: the standard library's strict reading of one record (no jiter)."""
    text = raw.strip()
    if not text:
        return UnreadableRecord("the record is empty", "")
    return _parse_strictly(text)


def same_outcome(fast: object, strict: object) -> bool:
    if isinstance(strict, OversizedInteger) or isinstance(fast, OversizedInteger):
        return isinstance(strict, OversizedInteger) and isinstance(fast, OversizedInteger) and str(fast) == str(strict)
    if isinstance(strict, dict) and isinstance(fast, dict):
        return list(strict) == list(fast) and all(same_outcome(fast[k], strict[k]) for k in strict)
    if isinstance(strict, list) and isinstance(fast, list):
        return len(strict) == len(fast) and all(map(same_outcome, fast, strict))
    return type(fast) is type(strict) and fast == strict


ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**990, max_value=10**1010)
    | st.floats()
    | st.text()
    | st.sampled_from(["\ud800", "\udfff", "\x00", "\u202e"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=10,
)


@budget(400)
@given(ANY_JSON, st.booleans(), st.booleans(), st.sampled_from([b"", b" ", b"\t", b"\r"]))
@example({"a": 1, "b": {"a": 2}}, False, True, b"")  # the same key in two objects is no duplicate
@example({"a": "12:00:00.5"}, False, False, b"")  # looks like a float inside a string
@example({"a": 10**1000}, False, False, b"")  # 1,001 digits: a marker, not an integer
@example([float("inf")], False, False, b"")
def test_the_fast_reading_of_a_record_is_always_the_strict_reading(
    value: Any, ascii_only: bool, duplicate_last_key: bool, padding: bytes
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    if duplicate_last_key and isinstance(value, dict) and value:
        text = text[:-1] + f", {json.dumps(list(value)[-1])}: 0}}"
    raw = padding + text.encode("utf-8", "surrogatepass") + padding
    fast, strict = parse_record(raw), read_strictly(raw)
    assert same_outcome(fast, strict), (fast, strict)


@budget(300)
@given(st.binary(max_size=120))
@example(b'{"a":1,"a":2}')
@example(b'{"\\u0061":1,"a":2}')
@example(b'{"a":"\\ud800"}')
@example(b'{"a":NaN}')
@example(b"\xef\xbb\xbf{}")
def test_the_fast_reading_of_any_bytes_is_always_the_strict_reading(raw: bytes) -> None:
    if deeper_than(raw.strip(), MAX_DEPTH):
        return
    assert same_outcome(parse_record(raw), read_strictly(raw))


def test_csv_rows_are_counted_whatever_their_bytes_and_spaces() -> None:
    assert count_csv_rows(io.BytesIO(b"id,note\n1,\xff\xfe not utf-8\n2,two words\n")) == 2
    assert count_csv_rows(io.BytesIO(b'"a header\nwith a newline",x\n1,2\n')) == 1


# ------------------------------------------------------------------ what each refusal says (the error log's words)


def the_break(data: bytes, **options: int) -> tuple[list[tuple[int, object]], tuple[int, str] | None]:
    read, unreadable = read_all(data, **options)
    return read, (unreadable.position, unreadable.reason) if unreadable else None


def test_each_break_of_a_file_says_what_broke_and_where() -> None:
    assert the_break(b"\xff\xfe[\x001\x00]\x00") == (
        [],
        (0, "the file is UTF-16 text: only UTF-8 is read (save or export it as UTF-8)"),
    )
    assert the_break(b"\xfe\xff\x00[\x001\x00]") == (
        [],
        (0, "the file is UTF-16 text: only UTF-8 is read (save or export it as UTF-8)"),
    )
    assert the_break(b"  id,name,\xff more text here ok\n", step=4096) == (
        [],
        (
            0,
            "not JSON: it starts with 'id,name,\ufffd more text '; expected a JSON array of records, "
            "one JSON record per line (NDJSON) or a single JSON object",
        ),
    )
    assert the_break(b"[1] x") == ([(1, 1)], (3, "unexpected data after the JSON array's closing ']': 'x'"))
    unreadable = read_all(b"[1] x")[1]
    assert str(unreadable) == unreadable.reason if unreadable else pytest.fail("no break")
    assert the_break(b"[1, 2") == (
        [(1, 1)],
        (4, "the JSON array breaks off at the record at byte 4: the input ends before ']'"),
    )
    assert the_break(b"{}\n" * 10, max_bytes=5) == (
        [],
        (0, "the file holds more than 5 bytes once decompressed (INGEST_MAX_BYTES): nothing after that is read"),
    )
    assert the_break(gzip.compress(b"{}\n" * 10)[:-12], step=4096) == (
        [],
        (
            0,
            "the gzip-compressed file is corrupt or truncated: "
            "Compressed file ended before the end-of-stream marker was reached",
        ),
    )


def test_each_refused_record_says_why_with_an_excerpt() -> None:
    read, unreadable = read_all(b'[1,,"\xff",{"a":}, 1]')
    assert unreadable is None
    assert read == [
        (1, 1),
        (3, UnreadableRecord("the record is empty", "")),
        (4, UnreadableRecord("the record is not UTF-8 text: invalid start byte at byte 1", '"\ufffd"')),
        (8, UnreadableRecord("the record is not JSON: Expecting value: line 1 column 6 (char 5)", '{"a":}')),
        (16, 1),
    ]


def test_an_excerpt_is_the_records_first_500_bytes_read_as_utf8_with_replacement() -> None:
    raw = b'{"a": "' + "é".encode() * 400 + b"\xff"
    refused = parse_record(raw)
    assert isinstance(refused, UnreadableRecord)
    assert refused.excerpt == raw[:500].decode("utf-8", "replace")


def test_an_oversized_integer_says_its_first_digits_and_its_length() -> None:
    marker = parse_record(b'{"n": -1' + b"0" * 1500 + b"}")
    assert isinstance(marker, dict)
    assert str(marker["n"]) == "-1000000000000000000… (an integer of 1502 digits)"


@pytest.mark.parametrize("sign", ["", "-"])
def test_an_integer_of_a_thousand_digits_is_read_and_one_more_is_a_marker(sign: str) -> None:
    thousand = sign + "9" * MAX_INTEGER_DIGITS
    assert parse_record(f'{{"n": {thousand}}}'.encode()) == {"n": int(thousand)}
    # beside a longer one, which sends the record to the standard library's reading
    record = parse_record(f'{{"n": {thousand}, "m": {thousand}9}}'.encode())
    assert isinstance(record, dict)
    assert record["n"] == int(thousand)
    assert isinstance(record["m"], OversizedInteger)


def test_a_record_nested_max_depth_levels_is_read_and_one_level_more_is_refused() -> None:
    assert parse_record(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert not isinstance(parse_record(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH), UnreadableRecord)
    assert parse_record(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)) == UnreadableRecord(
        f"the record is nested deeper than {MAX_DEPTH} levels", "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    )


# "opened": NDJSON whose first line opens an object it does not close, which the reader reads ahead (up to
# MAX_RECORD_BYTES and a read) to tell from one pretty-printed object: the next lines are then read in its buffer.
@pytest.mark.parametrize("shape", ["array", "ndjson", "opened"])
def test_a_record_of_max_record_bytes_is_read_and_one_byte_more_is_refused(shape: str) -> None:
    def record(size: int) -> bytes:
        return b'{"x": "' + b"a" * (size - 9) + b'"}'

    fits, over = record(MAX_RECORD_BYTES), record(MAX_RECORD_BYTES + 1)
    assert len(fits) == MAX_RECORD_BYTES
    data = {
        "array": b"[" + fits + b", " + over + b"]",
        "ndjson": fits + b"\n" + over + b"\n",
        "opened": b"{\n" + over + b"\n" + fits + b"\n",
    }[shape]
    read, unreadable = read_all(data, step=65536)
    assert unreadable is None
    if shape == "opened":
        assert isinstance(read[0][1], UnreadableRecord)
        read = read[1:][::-1]
    assert read[0][1] == {"x": "a" * (MAX_RECORD_BYTES - 9)}
    assert read[1][1] == UnreadableRecord(f"the record is larger than {MAX_RECORD_BYTES} bytes", over[:500].decode())


# ------------------------------------------------------------------ boundaries: the read sizes, the limits, the edges


class Pieces(io.RawIOBase):
    """A stream whose first reads hand out `first` bytes each (one size a read), then whole reads: a record may
    begin a few bytes before a read ends, wherever the network cuts."""

    def __init__(self, data: bytes, first: list[int]) -> None:
        self._data = io.BytesIO(data)
        self._first = list(first)

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        return self._data.read(self._first.pop(0) if self._first else size)

    def readable(self) -> bool:
        return True


@pytest.mark.parametrize("shape", ["array", "ndjson"])
@pytest.mark.parametrize("first", [[1], [3, 5], [2, 1, 1, 600]])
def test_an_oversized_records_excerpt_is_its_first_500_bytes_whatever_the_reads(shape: str, first: list[int]) -> None:
    """The bytes kept of a record over the limit are its first EXCERPT_BYTES, joined as they came, however few
    bytes each of the reads that began it held."""
    huge = b'{"x": "' + "é".encode() * MAX_RECORD_BYTES + b'"}'
    lead = b"[" if shape == "array" else b""
    data = lead + huge + (b', {"id": 2}]' if shape == "array" else b'\n{"id": 2}\n')
    read = list(records(Pieces(data, [len(lead) + n if i == 0 else n for i, n in enumerate(first)])))
    assert read == [
        (
            len(lead),
            UnreadableRecord(
                f"the record is larger than {MAX_RECORD_BYTES} bytes", huge[:500].decode("utf-8", "replace")
            ),
        ),
        (data.index(b'{"id": 2}'), {"id": 2}),
    ]


@pytest.mark.parametrize("step", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize(
    "plain",
    [b'{"id": 1}\n{"id": 2}\n', b'[{"id": 1}, {"id": 2}]', b'\xef\xbb\xbf\n{\n  "id": 1\n}\n'],
    ids=["ndjson", "array", "pretty"],
)
@pytest.mark.parametrize("compress", [False, True])
def test_a_file_of_exactly_max_bytes_is_read_whole_and_one_byte_more_is_not(
    plain: bytes, step: int, compress: bool
) -> None:
    """`max_bytes` counts every byte read (decompressed), whatever the reads: a file of exactly that many is read
    whole, one of a byte more breaks off."""
    stored = gzip.compress(plain) if compress else plain
    whole, _ = read_all(stored, step)
    assert read_all(stored, step, max_bytes=len(plain)) == (whole, None)
    _, unreadable = read_all(stored, step, max_bytes=len(plain) - 1)
    assert unreadable is not None
    assert f"more than {len(plain) - 1:,} bytes once decompressed" in unreadable.reason


@pytest.mark.parametrize(
    ("lead", "line_start"), [(b"", 0), (b"\r\n \n", 4), (b"\xef\xbb\xbf", 0), (b"\xef\xbb\xbf  \n", 6)]
)
def test_a_break_within_the_first_record_is_at_the_start_of_its_line(lead: bytes, line_start: int) -> None:
    """Before the first record is read, a break (past `max_bytes`, a gzip stream cut short) is reported at the
    start of that record's line: 0, or just after the blank lines before it, where the chunked plan of the same
    bytes ends (decompress_for_chunks: after the last newline read)."""
    first = b'{"id": 1, "name": "' + b"n" * 40
    data = lead + first + b'"}\n{"id": 2}\n'
    reason = f"the file holds more than {len(lead) + 4:,} bytes once decompressed (INGEST_MAX_BYTES): "
    assert the_break(data, step=2, max_bytes=len(lead) + 4) == ([], (line_start, reason + "nothing after that is read"))

    compressor = zlib.compressobj(wbits=31)
    cut_short = compressor.compress(lead + first[:10]) + compressor.flush(zlib.Z_SYNC_FLUSH)  # no gzip end
    read, unreadable = read_all(cut_short, step=4096)
    assert read == []
    assert unreadable is not None
    assert (unreadable.position, unreadable.reason.split(":")[0]) == (
        line_start,
        "the gzip-compressed file is corrupt or truncated",
    )
    plan = decompress_for_chunks(io.BytesIO(cut_short), arrays=False, every=1000, max_bytes=1 << 20, sink=len)
    assert plan.failure is not None
    assert plan.end == plan.failure.position == (line_start if b"\n" in lead else 0)


def test_data_after_an_arrays_end_is_shown_by_its_first_20_bytes_read_as_utf8_with_replacement() -> None:
    trailing = b"\xff" + b"x" * 30
    reason = f"unexpected data after the JSON array's closing ']': {(trailing[:20].decode('utf-8', 'replace'))!r}"
    assert the_break(b"[1] " + trailing, step=4096) == ([(1, 1)], (3, reason))
    assert the_break(b"[]\n" + trailing, step=4096) == ([], (2, reason)), "an empty array ends just after its ']'"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (b"[NaN]", "record: NaN is not a JSON number"),
        (b"-Infinity", "record: -Infinity is not a JSON number"),
        (b'{"":1,"":2}', "record: key '' appears more than once"),
    ],
)
def test_a_refusal_with_no_field_to_name_names_the_record(record: bytes, reason: str) -> None:
    assert parse_record(record) == UnreadableRecord(reason, record.decode())


# A pretty-printed object is read ahead up to MAX_RECORD_BYTES and a read to find where it closes.
PRETTY = b'{\n  "x": "%s"\n}'


@pytest.mark.parametrize("step", [1, 2, 3, 64])
def test_a_pretty_printed_object_is_one_record_whatever_bytes_each_read_holds(step: int) -> None:
    data = b'\xef\xbb\xbf  {"id": 1,\n  "tags": ["a", "}"]\n}\n\n'
    assert list(records(Trickle(data, step))) == [(5, {"id": 1, "tags": ["a", "}"]})]


def test_a_pretty_printed_object_of_max_record_bytes_is_one_record() -> None:
    data = PRETTY % (b"a" * (MAX_RECORD_BYTES - len(PRETTY % b"")))
    assert len(data) == MAX_RECORD_BYTES
    assert list(records(io.BytesIO(data))) == [(0, {"x": "a" * (MAX_RECORD_BYTES - len(PRETTY % b""))})]


def test_an_object_followed_by_more_than_max_record_bytes_of_padding_is_read_as_lines_to_the_last_record() -> None:
    """Past the read-ahead, an object its first line does not close is no single record: the file is read
    line by line (the object's lines each refused), and the records after the padding are read, never dropped."""
    data = PRETTY % b"a" + b" " * (2 * MAX_RECORD_BYTES) + b'\n{"id": 2}\n'
    read = list(records(io.BytesIO(data)))
    assert [position for position, record in read if isinstance(record, UnreadableRecord)] == [0, 4, 13]
    assert read[-1] == (data.index(b'{"id": 2}'), {"id": 2})


def gzip_with_header(body: bytes, *, extra: bytes | None, name: bytes | None, comment: bytes | None) -> bytes:
    """`body` gzip-compressed with the optional header fields of RFC 1952 (FEXTRA, FNAME, FCOMMENT, FHCRC)."""
    flags = (4 if extra is not None else 0) | (8 if name is not None else 0) | (16 if comment is not None else 0) | 2
    header = GZIP_MAGIC + b"\x08" + bytes([flags]) + b"\0\0\0\0\0\xff"
    if extra is not None:
        header += struct.pack("<H", len(extra)) + extra
    header += (name + b"\0" if name is not None else b"") + (comment + b"\0" if comment is not None else b"")
    header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    deflate = zlib.compressobj(wbits=-15)
    return header + deflate.compress(body) + deflate.flush() + struct.pack("<II", zlib.crc32(body), len(body))


@pytest.mark.parametrize("extra", [None, b"", b"AB\x02\x00hi"])
@pytest.mark.parametrize(("name", "comment"), [(None, None), (b"accounts.json", b"exported")])
def test_a_gzip_file_is_read_whatever_optional_fields_its_header_holds(
    extra: bytes | None, name: bytes | None, comment: bytes | None
) -> None:
    body = b'[{"id": 1}, {"id": 2}]'
    compressed = gzip_with_header(body, extra=extra, name=name, comment=comment)
    assert gzip.decompress(compressed) == body
    assert list(records(io.BytesIO(compressed))) == [(1, {"id": 1}), (12, {"id": 2})]


# Strings full of what delimits an item (quotes, escapes, brackets, commas), nested: the items' splitter must
# track strings and escapes to find each item's end, read whole or a few bytes at a time.
TRICKY_TEXT = st.text(alphabet='",[]{}\\ a\n\u00e9', max_size=8)
TRICKY_VALUES = st.recursive(
    st.none() | st.integers() | TRICKY_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TRICKY_TEXT, children, max_size=3),
    max_leaves=8,
)


@budget(100)
@given(st.lists(TRICKY_VALUES, max_size=6), st.integers(min_value=1, max_value=16), st.booleans())
@example([["\\", '",'], {"a": '\\"]'}], 1, True)
@example([{"\\\\": ['"']}, "]"], 3, False)
def test_items_with_quotes_escapes_and_brackets_in_their_strings_are_read_whole_in_reads_of_any_size(
    items: list[Any], step: int, ascii_only: bool
) -> None:
    data = json.dumps(items, ensure_ascii=ascii_only).encode()
    offsets = itertools.accumulate(
        (len(json.dumps(item, ensure_ascii=ascii_only).encode()) + len(", ") for item in items), initial=1
    )
    assert read_all(data, step) == (list(zip(offsets, items, strict=False)), None)
