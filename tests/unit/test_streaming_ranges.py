"""NDJSON read by byte range: any split of a file into ranges yields each of its records exactly once, as the
whole-file reader reads it, at a position (the byte offset of its first byte) that no split changes."""

from __future__ import annotations

import io
import itertools
import json

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform.streaming import (
    MAX_RECORD_BYTES,
    UTF8_BOM,
    lines_in_range,
    records,
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
    assert comparable(split) == comparable(single_range) == comparable(every_byte)
    assert [r for _, r in comparable(split)] == [r for _, r in comparable(whole)]
    for (offset, _), (line, _) in zip(split, whole, strict=True):
        assert data[offset : offset + 1].strip(), "a position is the record's first byte"
        assert data.count(b"\n", 0, offset) + 1 == line, "on the line the whole-file reader numbers it by"


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
