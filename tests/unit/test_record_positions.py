"""A record's position does not depend on the chunk size (issue #23): a file read whole (no bigger than
IngestChunkBytes) and the same file planned into chunks of any size, as the Transformer plans it, give every
record, refused or not, and the file's break, the same position: the byte offset of its first byte in the
(decompressed) file, a BOM counted."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import zlib

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.ingestion import chunks
from dropshop.platform.streaming import (
    UTF8_BOM,
    ArrayCuts,
    UnreadableFile,
    decompress_for_chunks,
    decompressed_head,
    items_in_range,
    lines_in_range,
    records,
    splits_into_items,
    splits_into_lines,
)
from tests.support.properties import budget

BREAK = "the file breaks off here"
Outcomes = dict[int, str]  # position → the record as read (or BREAK)


def outcome(record: object) -> str:
    """A record as read, comparable: an UnreadableRecord or an OversizedInteger by what it says."""
    return json.dumps(record, default=str)


def read_whole(data: bytes) -> Outcomes:
    read: Outcomes = {}
    try:
        for position, record in records(io.BytesIO(data)):
            assert position not in read, "one record per position"
            read[position] = outcome(record)
    except UnreadableFile as unreadable:
        read[unreadable.position] = BREAK
    return read


def read_chunked(data: bytes, every: int) -> Outcomes:
    """The file as the Transformer reads a big one (ingestion/service.py): plain NDJSON by byte range, a plain
    JSON array on its items' boundaries, gzip decompressed once and planned on its decompressed bytes."""
    if data.startswith(b"\x1f\x8b"):
        head, size = decompressed_head(io.BytesIO(data), limit=1 << 30)
        arrays = splits_into_items(head)
        if not arrays and not splits_into_lines(head, size):
            return read_whole(data)  # broken before its first line ends: read whole, as _stage decides
        staged = bytearray()
        plan = decompress_for_chunks(
            io.BytesIO(data), arrays=arrays, every=every, max_bytes=1 << 30, sink=staged.extend
        )
        ranges = list(itertools.pairwise([0, *plan.cuts, plan.end])) if plan.end else []
        read = _read_ranges(bytes(staged), ranges, arrays=arrays, reads_end=plan.failure is None)
        if plan.failure is not None:
            assert plan.failure.position not in read
            read[plan.failure.position] = BREAK
        return read
    if splits_into_items(data):
        return _read_ranges(
            data, list(itertools.pairwise([0, *ArrayCuts(io.BytesIO(data), every=every), len(data)])), arrays=True
        )
    assert splits_into_lines(data, len(data)), "generated files are chunked, never read whole"
    return _read_ranges(data, chunks.split(len(data), every), arrays=False)


def _read_ranges(data: bytes, ranges: list[tuple[int, int]], *, arrays: bool, reads_end: bool = True) -> Outcomes:
    """Each range's records; an array's last range reads the array's end unless the plan reports its break."""
    read: Outcomes = {}
    for n, (start, end) in enumerate(ranges):  # each chunk on its own, as its invocation reads it from an S3 ranged GET
        try:
            if arrays:
                last = n == len(ranges) - 1
                found = items_in_range(io.BytesIO(data[start:]), start=start, end=end, reads_end=reads_end or not last)
            else:
                found = lines_in_range(io.BytesIO(data[max(start - 1, 0) :]), start=start, end=end)
            for _, position, record in found:
                assert position not in read, "each record in exactly one chunk"
                read[position] = outcome(record)
        except UnreadableFile as unreadable:
            position = max(unreadable.position, start)  # as ingest_chunk logs it
            assert position not in read
            read[position] = BREAK
    return read


def gzip_cut_after(plain: bytes) -> bytes:
    """`plain` gzip-compressed, the stream ending after it without gzip's end: truncated exactly there (its items
    longer than the reader's read-ahead, LOOKAHEAD_BYTES, the plan breaks just after the last comma)."""
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(plain) + compressor.flush(zlib.Z_SYNC_FLUSH)


RECORDS = st.one_of(
    st.builds(lambda n: json.dumps({"id": f"acc-{n}", "balance": n}).encode(), st.integers(0, 10**6)),
    st.builds(lambda t: json.dumps({"id": t}).encode(), st.text(alphabet='",[]{}\\ a\n\r', max_size=6)),
    st.sampled_from(
        [
            b"",  # a blank line; in an array, an empty item
            b"  \t",
            b'{"id": "acc-1", "name": ',  # broken: a line (or item) cut short
            b'{"a": 1}}',  # a stray closer
            b"not json",
            b'{"name": "\xff\xfe"}',  # not UTF-8
            b'{"id": "dup", "id": "dup"}',
            b'"a string, with [brackets] and {braces}"',
            b'{"a":' * 40 + b"1" + b"}" * 40,  # deeper than MAX_DEPTH
            b'{"big": 1' + b"0" * 1200 + b"}",  # an integer of more than 1,000 digits
            b'  {"indented": true}  ',
        ]
    ),
)


@st.composite
def files(draw: st.DrawFn) -> bytes:
    """NDJSON (LF, CRLF, blank lines, broken lines) or a JSON array (any separators, broken items, a broken
    end), with or without a BOM, plain or gzip (whole, or its compressed bytes cut short)."""
    bom = UTF8_BOM if draw(st.booleans()) else b""
    lead = draw(st.sampled_from([b"", b"\n", b"\r\n \n", b"  "]))
    body = draw(st.lists(RECORDS, max_size=10))
    if draw(st.booleans()):
        separator = draw(st.sampled_from([b",", b", ", b",\r\n", b"\n,\n  "]))
        ending = draw(st.sampled_from([b"]", b"]\n", b"] trailing", b"", b', {"id": "cut']))
        plain = bom + lead + b"[" + separator.join([b'{"id": "first"}', *body]) + ending
    else:
        newlines = draw(
            st.lists(
                st.sampled_from([b"\n", b"\r\n", b"\n\n", b" \r\n"]), min_size=len(body) + 1, max_size=len(body) + 1
            )
        )
        ending = draw(st.sampled_from([b"", b"\n", b"\r\n\r\n"]))
        lines = [b'{"id": "first"}', *body]
        plain = (
            bom + lead + b"".join(line + newline for line, newline in zip(lines, newlines, strict=True))[:-1] + ending
        )
    if not draw(st.booleans()):
        return plain
    compressed = gzip.compress(plain, mtime=0)
    cut = draw(st.sampled_from([None, 0.5, 0.8, 0.95]))
    return compressed if cut is None else compressed[: max(int(len(compressed) * cut), 10)]


@given(data=files(), every=st.integers(1, 300))
@example(data=b'{"id": "first"}\n\n{"id": 2}', every=1)  # line numbers 1 and 3, offsets 0 and 17
@example(data=UTF8_BOM + b'[{"id": "first"}, {"id": 2}]', every=1)  # indexes 0 and 1, offsets 4 and 21
@example(data=gzip.compress(b'{"id": "first"}\r\n{"id": 2}\r\n', mtime=0), every=5)
@example(data=gzip.compress(b'[{"id": "first"},\n  {"id": 2}\n,\n  {"id": 3}]', mtime=0)[:-12], every=1)
@example(data=b'[{"id": "first"}, ', every=1)  # no cut after the last comma: one chunk reports the break
@example(data=gzip_cut_after(b"[" + b", ".join([b'{"id": "%s"}' % (b"x" * 20_000)] * 3) + b", "), every=1)
@example(data=gzip_cut_after(b'[{"id": "first"}, {"id": 2},' + b" " * 100_000), every=1)
@budget(300)
def test_a_record_has_the_same_position_read_whole_or_in_chunks_of_any_size(data: bytes, every: int) -> None:
    whole = read_whole(data)
    assert read_chunked(data, every) == whole
    assert read_chunked(data, 10**9) == whole, "one chunk"


def test_positions_are_byte_offsets_of_a_records_first_byte_whatever_the_shape() -> None:
    ndjson = UTF8_BOM + b'\r\n{"id": "a"}\r\n\r\n  {"id": "b"}\nnot json\n'
    assert [p for p, _ in records(io.BytesIO(ndjson))] == [5, 22, 34]
    array = b' [{"id": "a"},\n  {"id": "b"}]'
    assert [p for p, _ in records(io.BytesIO(array))] == [2, 17]
    assert [p for p, _ in records(io.BytesIO(gzip.compress(array)))] == [2, 17], "into the decompressed bytes"
    pretty = b'\n\n{\n  "id": "a"\n}\n'
    assert [p for p, _ in records(io.BytesIO(pretty))] == [2]
