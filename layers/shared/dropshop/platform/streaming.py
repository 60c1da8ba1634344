"""Records streamed out of JSON, NDJSON and CSV files, one at a time, whatever the file's size."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from typing import IO

import ijson

# The pure-Python backend is ~15x slower: a layer built for the wrong platform must fail loudly at init.
if ijson.backend != "yajl2_c":
    raise RuntimeError(f"ijson's C backend is missing (got {ijson.backend}); rebuild the layer for this platform")

READ_CHUNK_BYTES = 64 * 1024


class UnreadableFile(Exception):
    """The file is not a JSON array nor NDJSON; records read before the fault were already yielded."""


class MalformedLine(Exception):
    def __init__(self, position: int, reason: str, excerpt: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason
        self.excerpt = excerpt


def records(stream: IO[bytes]) -> Iterator[tuple[int, object]]:
    """(position, record) pairs: the index in a JSON array, or the line number (from 1) in NDJSON.

    An NDJSON line that is not JSON is yielded as a MalformedLine in place of its record, so that one bad
    line costs that line only.
    """
    first = _first_significant_byte(stream)
    if first == b"[":
        yield from _array(stream, first)
    elif first == b"{":
        yield from _ndjson(stream, first)
    elif first:
        raise UnreadableFile("a JSON file must hold an array of records or one record per line (NDJSON)")


def _first_significant_byte(stream: IO[bytes]) -> bytes:
    while True:
        byte = stream.read(1)
        if not byte or not byte.isspace():
            return byte


class _Prefixed:
    """The stream with the byte we already read put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) to learn bytes from text: that must not consume the head
            return b""
        head, self._head = self._head, b""
        return head + self._stream.read(size - len(head) if size > 0 else size)


def _array(stream: IO[bytes], head: bytes) -> Iterator[tuple[int, object]]:
    try:
        yield from enumerate(ijson.items(_Prefixed(head, stream), "item", use_float=True))
    except ijson.JSONError as error:
        raise UnreadableFile(f"the JSON array breaks off: {error}") from None


def _ndjson(stream: IO[bytes], head: bytes) -> Iterator[tuple[int, object]]:
    pending = head
    line_number = 0
    while True:
        chunk = stream.read(READ_CHUNK_BYTES)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if not chunk:
            lines.append(pending)
        for line in lines:
            line_number += 1
            if line.strip():
                yield line_number, _parse_line(line_number, line)
        if not chunk:
            return


def _parse_line(position: int, line: bytes) -> object:
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return MalformedLine(position, f"line is not JSON: {error}", line[:500].decode("utf-8", "replace"))


def count_csv_rows(stream: IO[bytes]) -> int:
    """Data rows of a CSV file (the header row excluded), quoted newlines handled, streamed."""
    reader = csv.reader(codecs.iterdecode(_lines(stream), "utf-8-sig", errors="replace"))
    return max(sum(1 for _ in reader) - 1, 0)


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    pending = b""
    while chunk := stream.read(READ_CHUNK_BYTES):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending
