"""Records streamed out of JSON, NDJSON and CSV bytes, one at a time, whatever the input's size or shape.

Whatever the bytes, reading one record never stops the others: a record that cannot be read (not JSON,
not UTF-8, nested deeper than MAX_DEPTH, larger than MAX_RECORD_BYTES) is yielded as an UnreadableRecord
in its place and reading goes on. Only input that breaks off as a whole (an array never closed, a corrupt
gzip stream, bytes that are no JSON at all, more than `max_bytes` once decompressed) raises UnreadableFile,
after the records before the break.

The bytes are split into records here and each record is parsed as strict JSON (`strict_json`: a duplicate key
or NaN refuses the record, naming the key, as the REST API refuses such a body), because ijson's
C backend (yajl2_c) stops the whole parse at an integer beyond 64 bits with `use_float` (and crashes the
interpreter beyond 4,300 digits without it), cannot resume after a syntax error, and needs memory growing
with the square of the nesting depth (measured: docs/pipeline.md). Memory here is bounded by
MAX_RECORD_BYTES plus a read chunk, for any input; work is bounded by `max_bytes` (a gzip bomb of whitespace
expands to gigabytes that hold no record) and runs of blank lines or padding are skipped at the speed of bytes,
never one Python step per blank line.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import math
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol, cast

import jiter

from dropshop.platform import strict_json
from dropshop.platform.json_depth import CLOSERS, MAX_DEPTH, NESTING, OPENERS, deeper_than
from dropshop.platform.settings import DEFAULT_INGEST_MAX_BYTES

READ_CHUNK_BYTES = 64 * 1024
MAX_RECORD_BYTES = 1024 * 1024  # a record must fit in a 256 KiB queue message anyway
MAX_INTEGER_DIGITS = 1000  # int() of longer text is slow (CPython caps it at 4,300 digits)
EXCERPT_BYTES = 500
LOOKAHEAD_BYTES = 16 * 1024  # an array item is first tried whole within this much buffered input
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8

# A flat JSON value followed by the comma or bracket that ends it: the common record, matched in one go.
_FLAT_ITEM = re.compile(
    rb'\s*(?:\{[^"\[\]{}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"\[\]{}]*)*\}|"[^"\\]*(?:\\.[^"\\]*)*"|[^"\[\]{},\s]+)\s*[,\]]',
    re.DOTALL,
)
_STRUCTURE = re.compile(rb'["\[\]{},]')
_STRING_STOP = re.compile(rb'["\\]')
_SPACE = re.compile(rb"\s*")  # what bytes.strip() strips: JSON's whitespace, plus \v and \f
_WHITESPACE = b" \t\n\r\v\f"  # what _SPACE matches, to test one byte
# An integer of more than MAX_INTEGER_DIGITS digits (or text that looks so): read by the standard library.
_LONG_INTEGER = re.compile(rb"[0-9]{%d}" % (MAX_INTEGER_DIGITS + 1))
_SCALARS = frozenset({str, int, bool, type(None)})


class UnreadableFile(Exception):
    """The input cannot be read on from `position` (the next record's position); records before were yielded."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


class SplitLimitExceeded(UnreadableFile):
    """More bytes than one invocation may plan into chunks (INGEST_SPLIT_MAX_BYTES): the whole file's failure,
    never taken for a broken end of the input, which a later chunk reports."""


@dataclass(frozen=True)
class UnreadableRecord:
    """Stands in for a record that is not JSON (or too deep, too large): refused on its own, not with its
    neighbours."""

    reason: str
    excerpt: str


class OversizedInteger:
    """An integer literal of more than MAX_INTEGER_DIGITS digits: kept as a marker, so that validation names
    the field that holds it instead of the parse failing for the whole record."""

    def __init__(self, digits: str) -> None:
        self.length = len(digits)
        self.head = digits[:20]

    def __str__(self) -> str:
        return f"{self.head}… (an integer of {self.length} digits)"


class _CorruptCompression(Exception):
    pass


Parse = Callable[[bytes], object]  # one record's bytes (at most MAX_RECORD_BYTES) as what the reader yields


def records(
    stream: IO[bytes], *, max_bytes: int = DEFAULT_INGEST_MAX_BYTES, parse: Parse | None = None
) -> Iterator[tuple[int, object]]:
    """(position, record) pairs, the position being the byte offset of the record's first byte in the file
    (a BOM counts; in a gzip file, in its decompressed bytes), whatever the shape: an NDJSON line, a JSON
    array's item, a single JSON object. This is the one-chunk case of `lines_in_range` and `items_in_range`,
    so a record has the same position read whole or in chunks of any size. A leading UTF-8 byte order mark is
    skipped; gzip-compressed input (by its magic bytes) is decompressed as it streams. Beyond `max_bytes` read
    (decompressed), the file is unreadable from the record under way. Each record's bytes are read by
    `parse_record`, or by `parse` (a reading that falls back to it: the Transformer's, see `accounts.compiled`)."""
    reader = _Reader(_decompressed(stream), max_bytes, base=0, parse=parse or parse_record)
    try:
        yield from reader.whole()
    except _CorruptCompression as corrupt:
        raise UnreadableFile(
            reader.next_position, f"the gzip-compressed file is corrupt or truncated: {corrupt}"
        ) from None


def _decompressed(stream: _Readable) -> _Readable:
    """The stream, decompressed as it is read if it starts with gzip's magic bytes."""
    head = b""
    while len(head) < len(GZIP_MAGIC) and (chunk := stream.read(READ_CHUNK_BYTES)):
        head += chunk
    plain = _Head(head, stream)
    return _Gunzip(plain) if head.startswith(GZIP_MAGIC) else plain


def parse_record(raw: bytes) -> object:
    """One record's bytes as a JSON value, or an UnreadableRecord saying why not; never raises.

    jiter (pydantic's own parser, in Rust) reads the common record at a fraction of `json.loads`'s cost and
    refuses duplicate keys, NaN and lone surrogates itself. Whatever it refuses, and a record with an integer of
    more than MAX_INTEGER_DIGITS digits or an infinite float (jiter reads 1e999 as infinity), is read again by
    the standard library's strict reading, which alone says why a record is refused: so the outcome is always
    that reading's (tests/unit/test_streaming.py compares them)."""
    text = raw.strip()
    if not text:
        return UnreadableRecord("the record is empty", "")
    if deeper_than(text, MAX_DEPTH):
        return UnreadableRecord(f"the record is nested deeper than {MAX_DEPTH} levels", _excerpt(text))
    if not _LONG_INTEGER.search(text):
        try:
            value = jiter.from_json(text, catch_duplicate_keys=True, allow_inf_nan=False)
        except ValueError:
            pass
        else:
            if _finite(value):
                return value
    return _parse_strictly(text)


def _finite(value: object) -> bool:
    """Whether every number in `value` is finite: in C for a record of plain fields, one by one otherwise."""
    if isinstance(value, dict):
        values: Iterable[object] = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return not isinstance(value, float) or math.isfinite(value)
    return set(map(type, values)) <= _SCALARS or all(map(_finite, values))


def _parse_strictly(text: bytes) -> object:
    try:
        return strict_json.loads(text.decode("utf-8"), parse_int=_integer)
    except UnicodeDecodeError as error:
        return UnreadableRecord(f"the record is not UTF-8 text: {error.reason} at byte {error.start}", _excerpt(text))
    except strict_json.StrictJsonError as error:
        return UnreadableRecord(f"{error.field or 'record'}: {error.problem}", _excerpt(text))
    except ValueError as error:  # json.JSONDecodeError, and anything else json refuses
        return UnreadableRecord(f"the record is not JSON: {error}", _excerpt(text))


def _integer(digits: str) -> int | OversizedInteger:
    return int(digits) if len(digits.lstrip("-")) <= MAX_INTEGER_DIGITS else OversizedInteger(digits)


def _excerpt(raw: bytes) -> str:
    return raw[:EXCERPT_BYTES].decode("utf-8", "replace")


def _breaks_off(position: int, *, at_record: bool) -> str:
    """Why an array ending before its ']' is unreadable from `position`: a record cut short there, or only its
    end (the input ends after a comma), whether the array is read whole or in chunks."""
    where = f"the record at byte {position}" if at_record else f"byte {position}"
    return f"the JSON array breaks off at {where}: the input ends before ']'"


def _value_end(raw: bytes, start: int) -> int | None:
    """Where the JSON value opened at `start` closes (brackets outside strings balance), None if it does not."""
    depth = 0
    for token in NESTING.finditer(raw, start):
        first = raw[token.start()]
        if first in OPENERS:
            depth += 1
        elif first in CLOSERS:
            depth -= 1
            if depth == 0:
                return token.end()
    return None


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Gunzip:
    """gzip decompressed as it is read; a corrupt stream is the file's fault, not an outage to retry."""

    def __init__(self, stream: _Readable) -> None:
        self._file = gzip.GzipFile(fileobj=cast("IO[bytes]", stream), mode="rb")
        self._broken: _CorruptCompression | None = None

    def read(self, size: int) -> bytes:
        """Up to `size` bytes, fewer only at the end. GzipFile.read(size) fills its answer from several blocks and
        drops those already decompressed when a later one breaks: read block by block (read1), the bytes before
        a break are returned first and the break raised on the next read."""
        if self._broken:
            raise self._broken
        data = bytearray()
        while len(data) < size:
            try:
                block = self._file.read1(size - len(data))
            except (gzip.BadGzipFile, EOFError, zlib.error) as error:
                self._broken = _CorruptCompression(str(error) or type(error).__name__)
                if not data:
                    raise self._broken from None
                break
            if not block:
                break
            data += block
        return bytes(data)


class _Head:
    """The stream with bytes already read put back in front."""

    def __init__(self, head: bytes, stream: _Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if not self._head:
            return self._stream.read(size)
        cut = len(self._head) if size < 0 else size
        head, self._head = self._head[:cut], self._head[cut:]
        return head


@dataclass
class _Item:
    raw: bytes
    oversized: bool

    def record(self, parse: Parse) -> object:
        if self.oversized:
            return UnreadableRecord(f"the record is larger than {MAX_RECORD_BYTES} bytes", _excerpt(self.raw))
        return parse(self.raw)


class _Collected:
    """A record's bytes gathered across reads, never more than MAX_RECORD_BYTES of them (then an excerpt)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self.oversized = False

    def add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self.oversized:
            return
        if self._size > MAX_RECORD_BYTES:
            self.oversized = True
            self._parts = [(b"".join(self._parts) + piece[:EXCERPT_BYTES])[:EXCERPT_BYTES]]
            return
        self._parts.append(piece)

    def item(self) -> _Item:
        return _Item(b"".join(self._parts), self.oversized)


class _Reader:
    """Records read from plain bytes, each byte's file offset known: `base` is the offset of the stream's first
    byte (a byte range of a file, an S3 ranged GET, starts past 0)."""

    def __init__(self, stream: _Readable, max_bytes: int, *, base: int, parse: Parse) -> None:
        self._stream = stream
        self._parse = parse
        self.buf = b""
        self.pos = 0
        self._base = base  # the file offset of buf[0]
        self.eof = False
        # Where a break is reported: just after the last whole record (its newline or comma) or at the start,
        # where a chunk planned on the same bytes ends (decompress_for_chunks).
        self.next_position = base
        self.line_start = base  # reading NDJSON: where the line of the record last read starts
        self._max_bytes = max_bytes
        self._bytes_read = 0

    @property
    def offset(self) -> int:
        return self._base + self.pos

    # ------------------------------------------------------------ bytes

    def _more(self) -> bool:
        """Read another chunk; bytes before the cursor are dropped."""
        if self.eof:
            return False
        chunk = self._stream.read(READ_CHUNK_BYTES)
        if not chunk:
            self.eof = True
            return False
        self._bytes_read += len(chunk)
        if self._bytes_read > self._max_bytes:
            raise UnreadableFile(
                self.next_position,
                f"the file holds more than {self._max_bytes:,} bytes once decompressed (INGEST_MAX_BYTES): "
                "nothing after that is read",
            )
        self._base += self.pos
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def _skip_bom(self) -> None:
        """Move past a UTF-8 byte order mark at the file's start (once: a second call does nothing)."""
        while self.offset == 0 and len(self.buf) < len(UTF8_BOM) and self._more():
            pass
        if self.offset == 0 and self.buf.startswith(UTF8_BOM):
            self.pos = len(UTF8_BOM)

    def _skip_space(self, *, lines: bool = False) -> int | None:
        """Move past whitespace; the file offset just after the last newline passed, if any. Reading `lines`,
        that is where the next line starts, and where a break is reported from each newline on."""
        passed = None
        while True:
            end = cast("re.Match[bytes]", _SPACE.match(self.buf, self.pos)).end()
            newline = self.buf.rfind(b"\n", self.pos, end)
            if newline >= 0:
                passed = self._base + newline + 1
                if lines:
                    self.next_position = passed
            self.pos = end
            if end < len(self.buf) or not self._more():
                return passed

    def _peek(self) -> int | None:
        return self.buf[self.pos] if self.pos < len(self.buf) else None

    # ------------------------------------------------------------ shapes

    def whole(self) -> Iterator[tuple[int, object]]:
        """A whole file's records: a JSON array's items, a single (pretty-printed) object, or NDJSON lines."""
        self._skip_bom()
        if self.buf.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise UnreadableFile(0, "the file is UTF-16 text: only UTF-8 is read (save or export it as UTF-8)")
        line_start = self._skip_space()
        first = self._peek()
        if first is None:
            return
        if first == ord("["):
            if self.open_array():
                yield from self.items(sys.maxsize)
        elif first == ord("{"):
            self.next_position = line_start or 0
            if (single := self._single_object()) is not None:
                yield single
                return
            yield from self.lines(sys.maxsize)
        else:
            shown = self.buf[self.pos : self.pos + 20].decode("utf-8", "replace")
            raise UnreadableFile(
                0,
                f"not JSON: it starts with {shown!r}; expected a JSON array of records, "
                "one JSON record per line (NDJSON) or a single JSON object",
            )

    def open_array(self) -> bool:
        """Move past a BOM, whitespace and the array's '[' (and an empty array's ']'): whether items follow."""
        self._skip_bom()
        self._skip_space()
        if self._peek() != ord("["):
            shown = self.buf[self.pos : self.pos + 20].decode("utf-8", "replace")
            raise UnreadableFile(self.offset, f"not a JSON array: it starts with {shown!r}")
        self.pos += 1
        self._skip_space()
        if self._peek() == ord("]"):
            self.pos += 1
            self.next_position = self.offset
            self._expect_end()
            return False
        return True

    def items(self, end: int, *, reads_end: bool = True) -> Iterator[tuple[int, object]]:
        """(position, record) for the array's items starting before `end`, the cursor being at an item (or the
        whitespace before it). Past the last item, the array's end is read (unless not `reads_end`): an array
        that breaks off, or data after its ']', raises UnreadableFile."""
        parse = self._parse
        while self._base + self.pos < end:
            position, item, closer = self._array_item()
            if closer is None:
                raise UnreadableFile(position, _breaks_off(position, at_record=bool(item.raw)))
            self.next_position = self._base + self.pos
            yield position, item.record(parse)
            if closer == ord("]"):
                if reads_end:
                    self._expect_end()
                return
        if not reads_end:
            return
        self._skip_space()
        if self._peek() is None:  # the file ends after a comma: the array breaks off here
            raise UnreadableFile(self.offset, _breaks_off(self.offset, at_record=False))

    def _expect_end(self) -> None:
        self._skip_space()
        if self._peek() is not None:
            shown = self.buf[self.pos : self.pos + 20].decode("utf-8", "replace")
            raise UnreadableFile(self.next_position, f"unexpected data after the JSON array's closing ']': {shown!r}")

    def _array_item(self) -> tuple[int, _Item, int | None]:
        """The next item's position (its first byte), its bytes and the byte that closed it (',' or ']'), None
        if the input ended first."""
        self._skip_space()  # padding before an item is not part of it, however long
        position = self._base + self.pos
        if len(self.buf) - self.pos < LOOKAHEAD_BYTES:
            self._more()
        flat = _FLAT_ITEM.match(self.buf, self.pos)
        if flat and (flat.end() < len(self.buf) or self.eof):
            self.pos = flat.end()
            return position, _Item(self.buf[flat.start() : flat.end() - 1], oversized=False), self.buf[flat.end() - 1]
        return position, *self._scan_item()

    def _scan_item(self) -> tuple[_Item, int | None]:
        collected = _Collected()
        depth, in_string, escaped = 0, False, False
        start = self.pos
        while True:
            if self.pos >= len(self.buf):
                collected.add(self.buf[start : self.pos])
                if not self._more():
                    return collected.item(), None
                start = self.pos
            if escaped:
                self.pos += 1
                escaped = False
                continue
            if in_string:
                stop = _STRING_STOP.search(self.buf, self.pos)
                if stop is None:
                    self.pos = len(self.buf)
                    continue
                self.pos = stop.end()
                escaped = self.buf[stop.start()] == ord("\\")
                in_string = escaped
                continue
            mark = _STRUCTURE.search(self.buf, self.pos)
            if mark is None:
                self.pos = len(self.buf)
                continue
            byte = self.buf[mark.start()]
            self.pos = mark.end()
            if byte == ord('"'):
                in_string = True
            elif byte in OPENERS:
                depth += 1
            elif depth == 0 and byte in b",]":
                collected.add(self.buf[start : mark.start()])
                return collected.item(), byte
            elif byte in CLOSERS:
                depth = max(depth - 1, 0)

    def _single_object(self) -> tuple[int, object] | None:
        """The file's one record if it is a single (pretty-printed) JSON object: an object that its first line
        does not close, with nothing but whitespace after it; None if it is read line by line (NDJSON)."""
        position = self.offset
        while (newline := self.buf.find(b"\n", self.pos)) < 0 and len(self.buf) - self.pos <= MAX_RECORD_BYTES:
            if not self._more():
                break
        if newline >= 0 and _value_end(self.buf[self.pos : newline], 0) is None:
            while len(self.buf) - self.pos <= MAX_RECORD_BYTES and self._more():
                pass
            end = _value_end(self.buf, self.pos)
            if self.eof and end is not None and not self.buf[end:].strip():
                return position, self._parse(self.buf[self.pos : end])
        return None

    def begin_at(self, start: int) -> bool:
        """Move to the first line starting at or after `start` (past a BOM on the file's first line), where a
        break is reported from now on: whether there is one."""
        if start == 0:
            self._skip_bom()
            self.next_position = 0
            return True
        if not self._more():
            return False
        self.pos = 1
        if self.buf[0] != ord("\n"):  # a line begun before `start` is not ours
            while (newline := self.buf.find(b"\n", self.pos)) < 0:
                self.pos = len(self.buf)
                if not self._more():
                    return False
            self.pos = newline + 1
        self.next_position = self.offset
        return True

    def lines(self, end: int) -> Iterator[tuple[int, object]]:
        """(position, record) for the NDJSON lines starting before `end`, the cursor being at a line's start
        (`next_position`); `line_start` is where the line of the record last yielded starts. `next_position` is
        kept only before a read that may break: a line whole in the buffer, as most are, costs no bookkeeping."""
        parse = self._parse
        line_start = self.next_position
        # The buffer, the cursor and the buffer's file offset as locals, handed back to the reader only around
        # a read (nothing else moves it between two records): a line whole in the buffer costs no attribute.
        buf, pos, base = self.buf, self.pos, self._base
        size, whitespace, reach = len(buf), _WHITESPACE, MAX_RECORD_BYTES + 1  # the loop's constants as locals
        while True:
            if pos >= size or buf[pos] in whitespace:
                self.pos, self.next_position = pos, line_start
                self._skip_space(lines=True)  # blank lines and leading whitespace in one go
                line_start = self.next_position
                buf, pos, base = self.buf, self.pos, self._base
                size = len(buf)
                if pos >= size:
                    return
            if line_start >= end:
                self.pos = pos
                return
            self.line_start = line_start
            newline = buf.find(b"\n", pos, pos + reach)
            if newline >= 0:  # the whole line is in the buffer: read in place, nothing gathered
                line_start = base + newline + 1
                yield base + pos, parse(buf[pos:newline])
                pos = newline + 1
            else:
                self.pos, self.next_position = pos, line_start
                item = self._line()
                position = base + pos
                buf, pos, base = self.buf, self.pos, self._base
                size = len(buf)
                line_start = base + pos
                yield position, item.record(parse)

    def _line(self) -> _Item:
        collected = _Collected()
        while True:
            newline = self.buf.find(b"\n", self.pos)
            if newline >= 0:
                collected.add(self.buf[self.pos : newline])
                self.pos = newline + 1
                return collected.item()
            collected.add(self.buf[self.pos :])
            self.pos = len(self.buf)
            if not self._more():
                return collected.item()


# ------------------------------------------------------------------ NDJSON by byte range


# A file no bigger may be one pretty-printed record (splits_into_lines): its first line alone does not decide.
SINGLE_RECORD_FILE_BYTES = MAX_RECORD_BYTES + READ_CHUNK_BYTES


def splits_into_lines(head: bytes, size: int) -> bool:
    """Whether a plain file of `size` bytes starting with `head` is read line by line (NDJSON), so that any
    byte range of it can be read on its own: not gzip, not a JSON array, not a single pretty-printed object
    (an object its first line does not close, in a file small enough to be one record)."""
    text = head.removeprefix(UTF8_BOM).lstrip()
    if head.startswith(GZIP_MAGIC) or not text.startswith(b"{"):
        return False
    first_line = text.split(b"\n", 1)[0]
    return size > SINGLE_RECORD_FILE_BYTES or _value_end(first_line, 0) is not None


def lines_in_range(
    stream: _Readable,
    *,
    start: int,
    end: int,
    max_bytes: int = DEFAULT_INGEST_MAX_BYTES,
    parse: Parse | None = None,
) -> Iterator[tuple[int, int, object]]:
    """(line start, position, record) for the NDJSON records whose line starts in [start, end) of a file, the
    position being the byte offset of the record's first byte (a BOM counts). `stream` holds the file's bytes
    from max(start - 1, 0) to its end (an S3 ranged GET): the byte before `start` says whether a line starts
    there, and the last record is read to its newline past `end`. Each record is read as `records` reads an
    NDJSON line (`parse` as there), so the ranges of any split of a file together yield each of its records
    exactly once, at the position `records` gives it."""
    reader = _Reader(stream, max_bytes, base=max(start - 1, 0), parse=parse or parse_record)
    reader.next_position = start  # a break before the first record: where this range begins
    if reader.begin_at(start):
        for position, record in reader.lines(end):
            yield reader.line_start, position, record


# ------------------------------------------------------------------ JSON arrays by byte range


class ArrayCuts:
    """Byte offsets just after a top-level comma of the JSON array `stream` holds (from its first byte), at
    least `every` bytes apart: where a chunk of it may begin. Items are delimited by the reader's own splitter
    (strings, escapes and nesting tracked, nothing parsed), so a chunk starting at a cut reads exactly the
    items the whole-file reader reads, broken ones included. Ends at the array's ']' or where the input ends."""

    def __init__(self, stream: _Readable, *, every: int) -> None:
        # Nothing is parsed here; the caller bounds the input.
        self._reader = _Reader(stream, max_bytes=sys.maxsize, base=0, parse=parse_record)
        self._every = every
        self.whole_to = 0  # the offset up to which items were read whole: where a broken input is cut

    def __iter__(self) -> Iterator[int]:
        try:
            yield from self._cuts()
        except SplitLimitExceeded:  # the input itself is refused: the caller reports it
            raise
        except UnreadableFile:  # the array's own end is broken: no more cuts, the last chunk reports it
            return

    def _cuts(self) -> Iterator[int]:
        reader = self._reader
        if not reader.open_array():
            self.whole_to = reader.offset
            return
        last = 0
        while True:
            _, _, closer = reader._array_item()
            if closer is None:
                return
            self.whole_to = reader.offset
            if closer == ord("]"):
                return
            if reader.offset - last >= self._every:
                last = reader.offset
                reader._skip_space()
                if reader._peek() is None:  # the array breaks off after this comma: one range reports it, once
                    return
                yield last


def items_in_range(
    stream: _Readable,
    *,
    start: int,
    end: int,
    max_bytes: int = DEFAULT_INGEST_MAX_BYTES,
    parse: Parse | None = None,
    reads_end: bool = True,
) -> Iterator[tuple[int, int, object]]:
    """(item start, position, record) for the items of a JSON array in [start, end), a range from `ArrayCuts`
    (0, or just after a top-level comma, to the next cut or the file's end); the position is the byte offset
    of the item's first byte, as `records` gives it. `stream` holds the file's bytes from `start` on (an S3
    ranged GET). The range that ends the file also reads the array's end: an array that breaks off, or data
    after its ']', raises UnreadableFile as the whole-file reader does. Not `reads_end` (the last range of a
    plan that broke off, `Decompressed.failure`, which reports the break), nothing past `end` is read."""
    reader = _Reader(stream, max_bytes, base=start, parse=parse or parse_record)
    if start == 0 and not reader.open_array():
        return
    for position, record in reader.items(end, reads_end=reads_end):
        yield position, position, record


def splits_into_items(head: bytes) -> bool:
    """Whether a plain file starting with `head` is a JSON array (read in chunks on its items' boundaries)."""
    return not head.startswith(GZIP_MAGIC) and head.removeprefix(UTF8_BOM).lstrip().startswith(b"[")


# ------------------------------------------------------------------ gzip, decompressed once for chunks


@dataclass(frozen=True)
class Decompressed:
    """A gzip file decompressed once (its bytes handed to a sink as they came) and planned into chunks of the
    decompressed stream: they begin at 0 and at each cut, and together cover [0, end)."""

    size: int  # bytes decompressed, all of them handed to the sink
    cuts: list[int]
    end: int  # `size`, or where a broken input is cut: after its last whole line or array item
    failure: UnreadableFile | None  # the break, at `end`: corrupt, truncated, or beyond `max_bytes`


def decompressed_head(stream: _Readable, *, limit: int) -> tuple[bytes, int]:
    """The first READ_CHUNK_BYTES of a gzip stream decompressed, and how many bytes it decompresses to (up to
    where it breaks, if it is corrupt), counted up to `limit` + 1: nothing more is kept."""
    gunzip = _Gunzip(stream)
    head, size = b"", 0
    try:
        head = gunzip.read(READ_CHUNK_BYTES)
        size = len(head)
        while size <= limit and (more := gunzip.read(READ_CHUNK_BYTES)):
            size += len(more)
    except _CorruptCompression:
        pass
    return head, size


def decompress_for_chunks(
    stream: _Readable, *, arrays: bool, every: int, max_bytes: int, sink: Callable[[bytes], None]
) -> Decompressed:
    """Decompress a gzip stream once, handing every decompressed byte to `sink` in order, and plan the
    decompressed stream's chunks: NDJSON at every `every` bytes (a chunk reads the lines starting in its range,
    `lines_in_range`), a JSON array (`arrays`) after top-level commas (`ArrayCuts`, `items_in_range`). A stream
    that breaks off (corrupt, truncated, beyond `max_bytes`) is planned up to its last whole record, as the
    whole-file reader reads it up to there, and the break is returned for the file to report once."""
    teed = _Teed(_Gunzip(stream), sink, max_bytes)
    cutter = ArrayCuts(teed, every=every) if arrays else None
    cuts: list[int] = []
    failure = None
    try:
        for cut in cutter or ():
            cuts.append(cut)
        while teed.read(READ_CHUNK_BYTES):
            pass
    except _CorruptCompression as corrupt:
        failure = f"the gzip-compressed file is corrupt or truncated: {corrupt}"
    except SplitLimitExceeded as unreadable:
        failure = unreadable.reason
    whole_to = cutter.whole_to if cutter is not None else teed.lines_end
    end = teed.size if failure is None else whole_to
    if cutter is None:
        cuts = list(range(every, end, every))
    return Decompressed(
        size=teed.size,
        cuts=[cut for cut in cuts if cut < end],
        end=end,
        failure=UnreadableFile(end, failure) if failure else None,
    )


class _Teed:
    """A decompressed stream whose bytes are also handed to a sink, counted, and bounded."""

    def __init__(self, stream: _Readable, sink: Callable[[bytes], None], max_bytes: int) -> None:
        self._stream = stream
        self._sink = sink
        self._max_bytes = max_bytes
        self.size = 0
        self.lines_end = 0  # just after the last newline read
        self._over = False

    def read(self, size: int, /) -> bytes:
        data = b"" if self._over else self._stream.read(size)
        if self._over or self.size + len(data) > self._max_bytes:
            self._over = True  # every later read refuses too: the stream past the limit is never read
            raise SplitLimitExceeded(
                self.size,
                f"the file holds more than {self._max_bytes:,} bytes once decompressed (INGEST_SPLIT_MAX_BYTES): "
                "nothing after that is read",
            )
        newline = data.rfind(b"\n")
        if newline >= 0:
            self.lines_end = self.size + newline + 1
        self.size += len(data)
        if data:
            self._sink(data)
        return data


# ------------------------------------------------------------------ CSV


def count_csv_rows(stream: IO[bytes]) -> int:
    """Data rows of a CSV file (the header row excluded), quoted newlines handled, streamed."""
    reader = csv.reader(codecs.iterdecode(_csv_lines(stream), "utf-8-sig", errors="replace"))
    return max(sum(1 for _ in reader) - 1, 0)


def _csv_lines(stream: IO[bytes]) -> Iterator[bytes]:
    pending = b""
    while chunk := stream.read(READ_CHUNK_BYTES):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending
