"""NDJSON read by byte range: any split of a file into ranges yields each of its records exactly once, as the
whole-file reader reads it, at a position (the byte offset of its first byte) that no split changes."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform.streaming import (
    GZIP_MAGIC,
    MAX_RECORD_BYTES,
    READ_CHUNK_BYTES,
    UTF8_BOM,
    ArrayCuts,
    Decompressed,
    SplitLimitExceeded,
    UnreadableFile,
    _Teed,
    decompress_for_chunks,
    decompressed_head,
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


def test_a_cut_falls_at_the_first_comma_at_least_every_bytes_from_the_last() -> None:
    assert list(ArrayCuts(io.BytesIO(b"[1,2,3]"), every=3)) == [3]  # 3 bytes from the start, then 2 and no more
    assert list(ArrayCuts(io.BytesIO(b"[1,2,3,4,5]"), every=4)) == [5, 9]


def test_an_empty_array_has_no_items_and_no_cuts() -> None:
    assert list(ArrayCuts(io.BytesIO(b"[ ]"), every=1)) == []
    assert list(items_in_range(io.BytesIO(b"[ ]"), start=0, end=3)) == []


def test_an_array_that_ends_after_its_bracket_or_a_comma_breaks_off_in_its_last_range() -> None:
    for data in (b" \n[", b"[1,", b"[] trailing", b"[]x", b"[1] 2"):
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
@example(items=20, arrays=True, over=0, every=4096)  # exactly the limit: planned whole
@example(items=20, arrays=False, over=0, every=4096)
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


# ------------------------------------------------------------------ gzip planned into chunks: where each chunk begins
# and where a broken stream is cut


class Reads(io.BytesIO):
    """A stream that counts how many times it is read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        return super().read(size)


def plan_of(body: bytes, *, arrays: bool, every: int, max_bytes: int = 1 << 40, cut: int | None = None) -> Decompressed:
    """The plan of `body` gzip-compressed (its compressed bytes cut at `cut`), and a check that the sink got the
    bytes the plan counted, in order."""
    compressed = gzip.compress(body)
    handed: list[bytes] = []
    plan = decompress_for_chunks(
        io.BytesIO(compressed[:cut]), arrays=arrays, every=every, max_bytes=max_bytes, sink=handed.append
    )
    assert b"".join(handed) == body[: plan.size]
    return plan


def test_a_whole_ndjson_stream_is_cut_every_so_many_bytes_and_ends_at_its_last_byte() -> None:
    body = b'{"id": 1}\n' * 10 + b'{"id": "no newline at the end"}'
    plan = plan_of(body, arrays=False, every=30)
    assert plan == Decompressed(size=len(body), cuts=list(range(30, len(body), 30)), end=len(body), failure=None)


def test_a_whole_array_stream_is_cut_after_top_level_commas_only() -> None:
    body = b'[{"a": "x,y"}, [1, 2], "s,]", {"b": {"c": 1}}]\n'
    plan = plan_of(body, arrays=True, every=1)
    assert plan == Decompressed(
        size=len(body), cuts=list(ArrayCuts(io.BytesIO(body), every=1)), end=len(body), failure=None
    )
    assert [body[cut - 1 : cut] for cut in plan.cuts] == [b","] * 3


def test_an_array_planned_as_lines_or_lines_as_an_array_is_not_the_plan() -> None:
    array = b"[" + b", ".join([b'{"id": 1}'] * 8) + b"]"
    assert all(array[cut - 1 : cut] == b"," for cut in plan_of(array, arrays=True, every=20).cuts)
    lines = b'{"id": 1}\n' * 8
    assert plan_of(lines, arrays=False, every=20).cuts == [20, 40, 60]


LINE_64K = b'{"x": "' + b"a" * (READ_CHUNK_BYTES - 9) + b'"}'  # a record of exactly one read of the gzip stream


@pytest.mark.parametrize(
    ("body", "max_bytes"),
    [
        # a read holding several newlines: the cut is after its last one
        (b'{"id": 1}\n' * 20_000, READ_CHUNK_BYTES + 1),
        # a read that begins with a newline and holds no other: the cut is just after that first byte
        (LINE_64K + b"\n" + LINE_64K[:-1] + b"\n" + LINE_64K, 2 * READ_CHUNK_BYTES + 1),
        # no newline read before the limit: nothing is whole
        (LINE_64K * 3, 2 * READ_CHUNK_BYTES),
    ],
    ids=["many-lines", "newline-first", "no-newline"],
)
def test_an_ndjson_stream_beyond_the_limit_is_planned_up_to_its_last_whole_line(body: bytes, max_bytes: int) -> None:
    plan = plan_of(body, arrays=False, every=1000, max_bytes=max_bytes)
    whole = body.rfind(b"\n", 0, plan.size) + 1
    assert plan.size <= max_bytes < len(body)
    assert plan.end == whole
    assert plan.cuts == list(range(1000, whole, 1000))
    assert plan.failure is not None
    assert plan.failure.position == whole
    assert plan.failure.reason == (
        f"the file holds more than {max_bytes:,} bytes once decompressed (INGEST_SPLIT_MAX_BYTES): "
        "nothing after that is read"
    )


def test_a_truncated_gzip_stream_is_planned_up_to_its_last_whole_line_or_item() -> None:
    lines = b"".join(json.dumps({"id": n}).encode() + b"\n" for n in range(12_000))
    plan = plan_of(lines, arrays=False, every=50_000, cut=len(gzip.compress(lines)) // 2)
    assert 0 < plan.end == lines.rfind(b"\n", 0, plan.size) + 1 < plan.size
    assert plan.failure is not None
    assert plan.failure.position == plan.end
    assert plan.failure.reason.startswith("the gzip-compressed file is corrupt or truncated: ")

    array = b"[" + b",".join(json.dumps({"id": n}).encode() for n in range(12_000)) + b"]"
    truncated = gzip.compress(array)[: len(gzip.compress(array)) // 2]
    plan = plan_of(array, arrays=True, every=50_000, cut=len(truncated))
    read_whole_file, broken = read_whole(truncated)
    assert broken
    # just after the comma of the last item the whole-file reader reads before the break
    assert plan.end == list(ArrayCuts(io.BytesIO(array), every=1))[len(read_whole_file) - 1]
    assert plan.failure is not None
    assert plan.failure.position == plan.end
    assert all(0 < cut < plan.end for cut in plan.cuts)


def test_the_split_limit_once_crossed_refuses_every_later_read_without_reading_on() -> None:
    stream = Reads(b"x" * 100)
    teed = _Teed(stream, [].append, max_bytes=10)
    with pytest.raises(SplitLimitExceeded):
        teed.read(64)
    reads = stream.reads
    with pytest.raises(SplitLimitExceeded):
        teed.read(64)
    assert stream.reads == reads


# ------------------------------------------------------------------ gzip's head and decompressed size


@pytest.mark.parametrize("extra", [0, 1, READ_CHUNK_BYTES + 5])
def test_the_decompressed_head_is_the_first_read_and_the_size_is_counted_past_the_limit(extra: int) -> None:
    limit = READ_CHUNK_BYTES
    # Incompressible bytes: gzip hands them out in blocks short of a read, which a read fills up to its size, no more.
    body = random.Random(0).randbytes(limit + extra)  # noqa: S311 - test data, not a secret
    head, size = decompressed_head(io.BytesIO(gzip.compress(body)), limit=limit)
    assert head == body[:READ_CHUNK_BYTES]
    assert (size > limit) == (len(body) > limit), "a stream one byte beyond the limit is counted beyond it"
    assert size == min(len(body), 2 * READ_CHUNK_BYTES), "counted one read past the limit, no further"


def test_the_decompressed_size_of_a_small_stream_is_its_size() -> None:
    body = b'{"id": 1}\n' * 20_000  # three reads
    assert decompressed_head(io.BytesIO(gzip.compress(body)), limit=1 << 40) == (body[:READ_CHUNK_BYTES], len(body))


def test_the_decompressed_head_of_a_corrupt_stream_is_what_came_before_the_break() -> None:
    assert decompressed_head(io.BytesIO(GZIP_MAGIC + b"\x08 not deflate at all"), limit=100) == (b"", 0)
    body = b'{"id": 1}\n' * 30_000
    compressed = gzip.compress(body)
    head, size = decompressed_head(io.BytesIO(compressed[: len(compressed) // 2]), limit=1 << 40)
    assert head == body[:READ_CHUNK_BYTES]
    assert READ_CHUNK_BYTES <= size < len(body)


# ------------------------------------------------------------------ where a range's break is reported


def range_break(data: bytes, start: int, end: int, max_bytes: int = 1 << 40) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as unreadable:
        list(items_in_range(io.BytesIO(data[start:]), start=start, end=end, max_bytes=max_bytes))
    return unreadable.value


def test_a_range_breaks_at_the_byte_of_the_record_it_could_not_read() -> None:
    assert range_break(b'[1, {"id"', 0, 9).position == 4  # the item that breaks off
    assert range_break(b"[1,   ", 3, 6).position == 6  # a range of padding after a comma, then the input ends
    assert range_break(b"[1,  ", 0, 3).position == 5  # the range's last item, a comma, padding, and the input ends
    assert range_break(b"[1] 2", 0, 5).position == 3  # data after the array's ']': where the array ended
    # nothing read yet: the range's own start, whichever range it is
    assert range_break(b"[1, 2, 3]" + b" " * READ_CHUNK_BYTES, 0, 3, max_bytes=1).position == 0
    assert range_break(b"[1, 2, 3]" + b" " * READ_CHUNK_BYTES, 3, 6, max_bytes=1).position == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'[{"a":1},', "the JSON array breaks off at byte 9: the input ends before ']'"),
        (b'[{"a":1},  \n', "the JSON array breaks off at byte 12: the input ends before ']'"),
        (b'[{"a":1}, {"b"', "the JSON array breaks off at the record at byte 10: the input ends before ']'"),
    ],
)
def test_an_array_that_breaks_off_says_so_in_the_same_words_read_whole_or_in_a_range(data: bytes, reason: str) -> None:
    """Only a record cut short is named: after a comma and nothing else, no record begins."""
    with pytest.raises(UnreadableFile) as whole:
        list(records(io.BytesIO(data)))
    assert whole.value.reason == reason
    cut = data.index(b",") + 1
    for start, end in ((0, len(data)), (cut, len(data))):  # one range, or a cut after the comma
        assert (range_break(data, start, end).position, range_break(data, start, end).reason) == (
            whole.value.position,
            reason,
        ), (start, end)


def test_only_an_array_splits_into_items() -> None:
    assert splits_into_items(b"\xef\xbb\xbf \n[{}]")
    assert not splits_into_items(b'{"id": 1}\n')
    assert not splits_into_items(GZIP_MAGIC + b"[")


def test_a_range_of_what_is_not_an_array_breaks_where_its_text_starts_showing_it() -> None:
    unreadable = range_break(b'\xef\xbb\xbf \n{"id": "\xff", "name": "a long name"}', 0, 40)
    assert unreadable.position == 5
    assert unreadable.reason == 'not a JSON array: it starts with \'{"id": "\ufffd", "name": \''


class Trickle(io.BytesIO):
    """A stream that hands out one byte per read, as a slow network body may: every byte starts a read."""

    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(1)


def test_a_range_read_a_byte_at_a_time_finds_its_first_line_as_one_read_whole() -> None:
    data = b'{"id": "a"}\n{"id": "b"}\n\n{"id": "c"}\n'
    for start in range(1, len(data)):
        whole = [(p, r) for _, p, r in lines_in_range(io.BytesIO(data[start - 1 :]), start=start, end=len(data))]
        trickled = [(p, r) for _, p, r in lines_in_range(Trickle(data[start - 1 :]), start=start, end=len(data))]
        assert trickled == whole == [(p, r) for p, r in read_split(data, []) if p >= start], start


def test_a_range_beyond_max_bytes_breaks_at_its_start_or_at_the_record_under_way() -> None:
    data = b'{"id": "a"}\n' + b'{"id": "' + b"b" * READ_CHUNK_BYTES + b'"}\n'
    with pytest.raises(UnreadableFile) as unreadable:
        list(lines_in_range(io.BytesIO(data[11:]), start=12, end=len(data), max_bytes=10))
    assert unreadable.value.position == 12
    read: list[int] = []
    with pytest.raises(UnreadableFile) as unreadable:
        read.extend(p for _, p, _ in lines_in_range(Trickle(data), start=0, end=len(data), max_bytes=100))
    assert read == [0]
    assert unreadable.value.position == 12


# ------------------------------------------------------------------ a range's line starts, whatever the reads


class Stepped(io.BytesIO):
    """A stream that hands out at most `step` bytes per read: a read may end anywhere, a newline included."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self._step = step

    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(self._step if size is None or size < 0 else min(size, self._step))


@given(
    lines=st.lists(LINES, min_size=1, max_size=10),
    newline=st.sampled_from([b"\n", b"\r\n", b"\n \n", b"\n\n"]),
    bom=st.booleans(),
    cuts=st.lists(st.integers(0, 600), max_size=6),
    step=st.integers(1, 40),
)
# a read that ends just before the newline ending a run of blank space: the line starts after that newline
@example(lines=[b"", b'{"b":2}'], newline=b"\n \n", bom=False, cuts=[17, 18], step=17)
@example(lines=[b"", b'{"b":2}'], newline=b"\n", bom=False, cuts=[], step=15)
@budget(100)
def test_each_record_of_a_range_comes_with_its_line_start_and_the_range_holding_it_whatever_the_reads(
    lines: list[bytes], newline: bytes, bom: bool, cuts: list[int], step: int
) -> None:
    """The line start of a record is just after the last newline before it (0 on the file's first line): the
    range whose [start, end) holds it reads the record, and a chunk handed on from it (ingest_chunk's rest)
    reads that record first, then the rest, whatever bytes each read of the stream returns."""
    first, *others = (line.replace(b"\n", b" ") for line in lines)
    data = (UTF8_BOM if bom else b"") + newline.join([b'{"id": "first"}' + first, *others]) + b"\n"
    assert splits_into_lines(data, len(data))
    whole = list(records(io.BytesIO(data)))
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    found: list[tuple[int, object]] = []
    for start, end in itertools.pairwise(bounds):
        for line_start, position, record in lines_in_range(
            Stepped(data[max(start - 1, 0) :], step), start=start, end=end
        ):
            assert line_start == data.rfind(b"\n", 0, position) + 1
            assert start <= line_start < end
            found.append((position, record))
            rest = [
                (p, r)
                for _, p, r in lines_in_range(
                    Stepped(data[max(line_start - 1, 0) :], step), start=line_start, end=len(data)
                )
            ]
            assert comparable(rest) == comparable([(p, r) for p, r in whole if p >= position])
    assert comparable(found) == comparable(whole)


def test_a_range_starting_at_or_past_the_files_end_has_no_records() -> None:
    data = b'{"id": 1}\n'
    assert list(lines_in_range(io.BytesIO(data[len(data) - 1 :]), start=len(data), end=len(data) + 10)) == []
    assert list(lines_in_range(io.BytesIO(b""), start=len(data) + 1, end=len(data) + 10)) == []


def test_a_range_that_does_not_read_the_arrays_end_stops_at_its_items() -> None:
    """Not `reads_end` (a plan that broke off reports the break itself): the range yields its items and reads
    nothing after them, whatever follows; a record cut short within the range still breaks it."""
    for data in (b"[1, 2] trailing", b"[1, 2,"):
        found = [(p, r) for _, p, r in items_in_range(io.BytesIO(data), start=0, end=len(data), reads_end=False)]
        assert found == [(1, 1), (4, 2)], data
        with pytest.raises(UnreadableFile):
            list(items_in_range(io.BytesIO(data), start=0, end=len(data)))
    with pytest.raises(UnreadableFile) as unreadable:
        list(items_in_range(io.BytesIO(b'[1, {"id"'), start=0, end=9, reads_end=False))
    assert unreadable.value.position == 4


@pytest.mark.parametrize("arrays", [False, True])
def test_a_gzip_stream_broken_before_its_first_byte_plans_nothing(arrays: bool) -> None:
    plan = decompress_for_chunks(
        io.BytesIO(GZIP_MAGIC + b"\x08 not deflate at all"), arrays=arrays, every=1, max_bytes=1 << 20, sink=len
    )
    assert (plan.size, plan.cuts, plan.end) == (0, [], 0)
    assert plan.failure is not None
    assert plan.failure.position == 0
    assert plan.failure.reason.startswith("the gzip-compressed file is corrupt or truncated: ")
