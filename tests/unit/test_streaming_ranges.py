"""NDJSON read by byte range: any split of a file into ranges yields each of its records exactly once, as the
whole-file reader reads it, at a position (the byte offset of its first byte) that no split changes."""

from __future__ import annotations

import gzip
import io
import itertools
import json

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform.streaming import (
    MAX_RECORD_BYTES,
    READ_CHUNK_BYTES,
    UTF8_BOM,
    ArrayCuts,
    UnreadableFile,
    decompress_for_chunks,
    items_in_range,
    lines_in_range,
    records,
    splits_into_items,
    splits_into_lines,
)
from tests.support.properties import budget


def read_split(data: bytes, cuts: list[int]) -> list[tuple[int, object]]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    found: list[tuple[int, object]] = []
    for start, end in itertools.pairwise(bounds):
        ranged = io.BytesIO(data[max(start - 1, 0) :])  # what an S3 ranged GET of `bytes=start-1-` returns
        found += [(position, record) for _, position, record in lines_in_range(ranged, start=start, end=end)]
    return found


def comparable(found: list[tuple[int, object]]) -> list[tuple[int, str]]:
    """Records as text: an OversizedInteger marker (anywhere in a record) compares by what it says."""
    return [(position, json.dumps(record, default=str)) for position, record in found]


LINES = st.one_of(
    st.builds(lambda n: json.dumps({"id": f"acc-{n}", "n": n}).encode(), st.integers(0, 10**6)),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"\r",
            b'{"id": "acc-1", "name": ',  # a line cut short
            b"not json",
            b"\x1f\x8b\x08 gzip magic mid-file",
            b'{"name": "\xff\xfe"}',
            b'  {"indented": true}  \r',
            b'{"a":' * 40 + b"1" + b"}" * 40,
            b'{"big": 1' + b"0" * 1200 + b"}",
        ]
    ),
)


@given(
    first=st.builds(lambda n: json.dumps({"id": f"acc-{n}"}).encode(), st.integers(0, 99)),
    lines=st.lists(LINES, max_size=12),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    leading_blank_lines=st.integers(0, 2),
    bom=st.booleans(),
    cuts=st.lists(st.integers(0, 2000), max_size=8),
)
@example(first=b'{"id":"a"}', lines=[b"", b"x"], newline=b"\r\n", leading_blank_lines=1, bom=True, cuts=[1, 2, 3, 4])
@budget(150)
def test_any_split_yields_each_record_once_as_the_whole_file_reads_it(
    first: bytes, lines: list[bytes], newline: bytes, leading_blank_lines: int, bom: bool, cuts: list[int]
) -> None:
    data = (UTF8_BOM if bom else b"") + newline * leading_blank_lines + newline.join([first, *lines]) + newline
    assert splits_into_lines(data, len(data))
    whole = list(records(io.BytesIO(data)))

    split = read_split(data, cuts)
    single_range = read_split(data, [])
    every_byte = read_split(data, list(range(len(data))))

    # The same records at the same positions, whatever the split.
    assert comparable(split) == comparable(single_range) == comparable(every_byte) == comparable(whole)
    for offset, _ in split:
        assert data[offset : offset + 1].strip(), "a position is the record's first byte"


def test_a_record_straddling_a_boundary_belongs_to_the_range_its_line_starts_in() -> None:
    data = b'{"id": "a"}\n{"id": "b"}\n'
    assert read_split(data, [15]) == [(0, {"id": "a"}), (12, {"id": "b"})]
    ranged = io.BytesIO(data[11:])
    assert [p for _, p, _ in lines_in_range(ranged, start=12, end=len(data))] == [12]
    assert [p for _, p, _ in lines_in_range(io.BytesIO(data), start=0, end=12)] == [0]


def test_blank_lines_across_a_boundary_give_the_record_to_the_range_holding_its_line_start() -> None:
    data = b'{"id": "a"}\n\n\n\n\n{"id": "b"}\n'
    owned = {end: [p for _, p, _ in lines_in_range(io.BytesIO(data), start=0, end=end)] for end in range(1, len(data))}
    assert owned[16] == [0]  # "b" sits on the line starting at byte 16
    assert owned[17] == [0, 16]


def test_a_pretty_printed_object_or_an_array_or_gzip_is_not_split() -> None:
    assert not splits_into_lines(b'{\n  "id": "a"\n}\n', 16)
    assert splits_into_lines(b"{\n", MAX_RECORD_BYTES * 4)  # too big to be one record: lines, as records() reads it
    assert not splits_into_lines(b'[{"id": "a"}]', 13)
    assert not splits_into_lines(b"\x1f\x8b\x08\x00", 4)
    assert not splits_into_lines(b"not json\n", 9)


# ------------------------------------------------------------------ JSON arrays


def read_array_split(data: bytes, every: int) -> tuple[list[tuple[int, object]], str | None]:
    """The records of every range planned by ArrayCuts, and the file-level failure (its reason) if any."""
    bounds = [0, *ArrayCuts(io.BytesIO(data), every=every), len(data)]
    found: list[tuple[int, object]] = []
    try:
        for start, end in itertools.pairwise(bounds):
            for _, position, record in items_in_range(io.BytesIO(data[start:]), start=start, end=end):
                found.append((position, record))
    except UnreadableFile as unreadable:
        return found, unreadable.reason
    return found, None


def read_whole(data: bytes) -> tuple[list[tuple[int, object]], bool]:
    found: list[tuple[int, object]] = []
    try:
        for position, record in records(io.BytesIO(data)):
            found.append((position, record))
    except UnreadableFile:
        return found, True
    return found, False


ITEMS = st.one_of(
    st.builds(lambda n: json.dumps({"id": f"acc-{n}", "n": n}).encode(), st.integers(0, 10**6)),
    st.builds(lambda t: json.dumps({"id": t}).encode(), st.text(alphabet='",[]{}\\ a\n', max_size=8)),
    st.sampled_from(
        [
            b"",  # [1,,2]: an empty item
            b"  ",
            b'{"id": "acc-1", "name": ',  # an item cut short: its braces never balance
            b'{"a": 1}}',  # a stray closer
            b'"a string, with [brackets] and {braces}"',
            b'"escaped \\" quote, \\\\"',
            b'[1, [2, 3], {"x": [4]}]',
            b"not json",
            b'{"name": "\xff\xfe"}',
            b'{"a":' * 40 + b"1" + b"}" * 40,
            b'{"big": 1' + b"0" * 1200 + b"}",
            b'\r\n  {"crlf": true}\r\n',
        ]
    ),
)


@given(
    items=st.lists(ITEMS, min_size=1, max_size=12),
    separator=st.sampled_from([b",", b", ", b",\r\n", b"\n,\n  "]),
    bom=st.booleans(),
    ending=st.sampled_from([b"]", b"]\n", b"] trailing", b"", b', {"id": "cut']),
    every=st.integers(1, 300),
)
@example(items=[b'{"id":"a"}', b"", b'{"a": 1}}', b'{"id":"b"}'], separator=b",", bom=True, ending=b"]", every=1)
@example(items=[b""], separator=b",", bom=False, ending=b"", every=1)  # "[": breaks off, no item
@example(items=[b""], separator=b",", bom=False, ending=b"] trailing", every=1)  # "[] trailing"
@budget(150)
def test_any_array_plan_yields_each_item_once_as_the_whole_file_reads_it(
    items: list[bytes], separator: bytes, bom: bool, ending: bytes, every: int
) -> None:
    data = (UTF8_BOM if bom else b"") + b" \n[" + separator.join(items) + ending
    assert splits_into_items(data)
    whole, whole_broken = read_whole(data)
    split, failure = read_array_split(data, every)
    single, single_failure = read_array_split(data, len(data) + 1)

    assert comparable(split) == comparable(single) == comparable(whole), "the same records at the same positions"
    assert (failure is not None) == (single_failure is not None) == whole_broken
    for offset, _ in split:
        assert data[offset : offset + 1].strip(), "a position is the item's first byte"


def test_an_array_is_cut_only_after_a_top_level_comma() -> None:
    data = b'[{"a": "x,y"}, [1, 2], "s,]", {"b": {"c": 1}}]'
    cuts = list(ArrayCuts(io.BytesIO(data), every=1))
    assert [data[cut - 1 : cut] for cut in cuts] == [b","] * 3
    assert [data[:cut].count(b",") for cut in cuts] == [2, 4, 6], "the commas between items, none inside one"


def test_an_empty_array_has_no_items_and_no_cuts() -> None:
    assert list(ArrayCuts(io.BytesIO(b"[ ]"), every=1)) == []
    assert list(items_in_range(io.BytesIO(b"[ ]"), start=0, end=3)) == []


def test_an_array_that_ends_after_its_bracket_or_a_comma_breaks_off_in_its_last_range() -> None:
    for data in (b" \n[", b"[1,", b"[] trailing", b"[1] 2"):
        assert read_whole(data)[1], data
        assert read_array_split(data, 1)[1] is not None, data


# ------------------------------------------------------------------ the split limit (INGEST_SPLIT_MAX_BYTES)

_BIG_ITEM = json.dumps({"id": "acc-1", "name": "x" * 1000}).encode()


@given(
    items=st.integers(1, 150),
    arrays=st.booleans(),
    over=st.integers(-(READ_CHUNK_BYTES * 3), READ_CHUNK_BYTES),
    every=st.sampled_from([1, 4096, 10**9]),
)
@example(items=150, arrays=True, over=-100, every=4096)  # crossed on a later read: it ended as a broken array
@example(items=20, arrays=True, over=-100, every=4096)  # crossed by the one read holding it all: no chunks, no failure
@budget(60)
def test_a_stream_beyond_the_split_limit_is_refused_for_that_reason_wherever_the_limit_falls(
    items: int, arrays: bool, over: int, every: int
) -> None:
    """Whether the limit falls before the first read, mid-stream or past the end, a stream bigger than it fails
    with the limit's reason (never as a broken array, never as a plan of nothing), one no bigger does not."""
    body = b"[" + b",".join([_BIG_ITEM] * items) + b"]" if arrays else b"\n".join([_BIG_ITEM] * items) + b"\n"
    limit = max(len(body) + over, 0)
    handed: list[bytes] = []
    plan = decompress_for_chunks(
        io.BytesIO(gzip.compress(body)), arrays=arrays, every=every, max_bytes=limit, sink=handed.append
    )

    if len(body) > limit:
        assert plan.failure is not None
        assert "INGEST_SPLIT_MAX_BYTES" in plan.failure.reason
        assert plan.end <= limit
    else:
        assert plan.failure is None
        assert plan.end == plan.size == len(body)
    assert b"".join(handed) == body[: plan.size], "the sink has the bytes read, no more"
    assert all(0 < cut < plan.end for cut in plan.cuts)
