"""ChunkQueue messages: a chunk read back from its message is the chunk sent, and a file's ranges cover it once."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.ingestion import chunks
from dropshop.ingestion.chunks import Chunk
from dropshop.ingestion.staging import Staged
from tests.support.properties import budget

texts = st.text(st.characters(codec="utf-8"), max_size=40)
offsets = st.integers(min_value=0, max_value=2**53)
staged = st.builds(Staged, texts, st.integers(min_value=1, max_value=2**40), offsets)
any_chunk = st.builds(
    Chunk,
    file_id=texts,
    bucket=texts,
    key=texts,
    etag=texts,
    start=offsets,
    end=offsets,
    version_id=st.none() | texts,
    shape=st.sampled_from(["lines", "items"]),
    staged=st.none() | staged,
    reads_end=st.booleans(),
)


@budget(200)
@given(any_chunk)
def test_a_chunk_read_back_from_its_message_is_the_chunk_sent(chunk: Chunk) -> None:
    assert Chunk.from_json(chunk.to_json()) == chunk


@budget(50)
@given(any_chunk)
def test_a_message_is_one_compact_json_object_naming_its_fields_as_the_queue_carries_them(chunk: Chunk) -> None:
    fields = json.loads(chunk.to_json())
    assert fields["file_id"] == chunk.file_id
    assert (fields["start"], fields["end"], fields["shape"]) == (chunk.start, chunk.end, chunk.shape)
    # A plain file's chunk carries no `staged` at all: the message of a file read from its upload stays small.
    assert ("staged" in fields) == (chunk.staged is not None)
    # Only the last chunk of an array whose plan broke off says so: every other message is as before.
    assert fields.get("reads_end", True) is chunk.reads_end
    assert ("reads_end" in fields) == (not chunk.reads_end)


def test_a_message_is_written_without_spaces() -> None:
    chunk = Chunk("f-1", "data", "incoming/a.ndjson", '"e"', 0, 10)
    assert chunk.to_json() == (
        '{"file_id":"f-1","bucket":"data","key":"incoming/a.ndjson","etag":"\\"e\\"","start":0,"end":10,'
        '"version_id":null,"shape":"lines"}'
    )


def test_a_message_from_before_shapes_and_staging_reads_as_lines_of_the_upload() -> None:
    """Messages sent before `shape`, `version_id` and `staged` existed (still in ChunkQueue or its DLQ when the
    code that reads them is deployed) are NDJSON ranges of the upload itself."""
    body = json.dumps({"file_id": "f-1", "bucket": "data", "key": "k", "etag": "e", "start": 5, "end": 9})
    assert Chunk.from_json(body) == Chunk("f-1", "data", "k", "e", 5, 9, None, "lines", None)


@pytest.mark.parametrize("shape", [None, "", "LINES", "Items", "gzip", 1])
def test_a_shape_other_than_items_is_read_as_lines(shape: object) -> None:
    body = json.dumps({"file_id": "f", "bucket": "b", "key": "k", "etag": "e", "start": 0, "end": 1, "shape": shape})
    assert Chunk.from_json(body).shape == "lines"


def test_a_null_staged_is_a_chunk_of_the_upload() -> None:
    body = json.dumps({"file_id": "f", "bucket": "b", "key": "k", "etag": "e", "start": 0, "end": 1, "staged": None})
    assert Chunk.from_json(body).staged is None


def test_fields_are_read_as_their_types() -> None:
    body = json.dumps(
        {
            "file_id": 7,
            "bucket": 8,
            "key": 9,
            "etag": 10,
            "start": "3",
            "end": "4",
            "shape": "items",
            "staged": {"prefix": 1, "part_bytes": "2", "size": "3"},
        }
    )
    assert Chunk.from_json(body) == Chunk("7", "8", "9", "10", 3, 4, None, "items", Staged("1", 2, 3))


@budget(100)
@given(any_chunk, st.data())
def test_the_rest_of_a_chunk_is_the_same_file_read_the_same_way(chunk: Chunk, data: st.DataObject) -> None:
    start = data.draw(offsets)
    rest = chunk.rest_from(start)
    assert rest.start == start
    assert rest == Chunk(**{**chunk.__dict__, "start": start})
    end = data.draw(offsets)
    part = chunk.part(start, end)
    assert (part.start, part.end) == (start, end)
    assert part == Chunk(**{**chunk.__dict__, "start": start, "end": end})


@budget(300)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=3_000))
@example(size=0, chunk_bytes=1)
@example(size=10, chunk_bytes=10)
@example(size=11, chunk_bytes=10)
@example(size=9, chunk_bytes=10)
def test_a_files_ranges_cover_every_byte_once_in_order_each_a_chunk_long_but_the_last(
    size: int, chunk_bytes: int
) -> None:
    ranges = chunks.split(size, chunk_bytes)
    covered = [byte for start, end in ranges for byte in range(start, end)]
    assert covered == list(range(size))
    assert all(start < end for start, end in ranges), "no empty range: each would be a chunk reading nothing"
    assert all(end - start == chunk_bytes for start, end in ranges[:-1])
    assert len(ranges) == -(-size // chunk_bytes)


def test_a_file_of_two_and_a_half_chunks() -> None:
    assert chunks.split(25, 10) == [(0, 10), (10, 20), (20, 25)]
