"""Reading records out of JSON arrays, NDJSON and CSV files as streams."""

from __future__ import annotations

import io

import pytest

from dropshop.platform.streaming import MalformedLine, UnreadableFile, count_csv_rows, records


class Trickle(io.RawIOBase):
    """A stream that hands out a few bytes per read, like a network body does."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int = -1) -> bytes:
        return self._data.read(self._step if size < 0 else min(size, self._step))

    def readable(self) -> bool:
        return True


def test_a_json_array_yields_its_items_by_index() -> None:
    data = b'  \n [{"id": 1}, {"id": 2}, "x", 3.5]'
    assert list(records(Trickle(data))) == [(0, {"id": 1}), (1, {"id": 2}), (2, "x"), (3, 3.5)]


def test_ndjson_yields_records_by_line_number_and_isolates_broken_lines() -> None:
    data = b'{"id": 1}\n\n{"id": 2\n{"id": 3}'
    read = list(records(Trickle(data, step=3)))
    assert [(n, r) for n, r in read if not isinstance(r, MalformedLine)] == [(1, {"id": 1}), (4, {"id": 3})]
    (broken,) = [r for _, r in read if isinstance(r, MalformedLine)]
    assert broken.position == 3
    assert broken.excerpt == '{"id": 2'


def test_an_empty_file_has_no_records() -> None:
    assert list(records(io.BytesIO(b"  \n"))) == []


def test_a_file_that_is_neither_array_nor_ndjson_is_unreadable() -> None:
    with pytest.raises(UnreadableFile):
        list(records(io.BytesIO(b"id,name\n1,x\n")))


def test_a_truncated_array_yields_what_came_before_the_break() -> None:
    reader = records(io.BytesIO(b'[{"id": 1}, {"id": 2}, {"id"'))
    assert [next(reader), next(reader)] == [(0, {"id": 1}), (1, {"id": 2})]
    with pytest.raises(UnreadableFile):
        next(reader)


def test_csv_rows_are_counted_without_the_header_and_with_quoted_newlines() -> None:
    data = b'id,note\n1,"two\nlines"\n2,plain\n3,last'
    assert count_csv_rows(Trickle(data)) == 3
    assert count_csv_rows(io.BytesIO(b"")) == 0
