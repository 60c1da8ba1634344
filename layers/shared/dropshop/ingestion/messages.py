"""WriterQueue messages: records packed densely from files, or one API request's body as it came."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import msgspec

from dropshop.ingestion.model import Origin
from dropshop.platform import streaming
from dropshop.platform.batch import SQSRecord

# SQS takes 256 KiB per message, attributes included; the margin covers the `source` attribute.
MESSAGE_LIMIT_BYTES = 256 * 1024 - 1024
_ENCODER = msgspec.json.Encoder()
SOURCE_ATTRIBUTE = "source"
API_ORIGIN_NAME = "POST /writer"


class _Entry(msgspec.Struct, gc=False):
    """One record of a message as packed: the same JSON as a dict of the two keys, encoded from field names msgspec
    writes once (MessagePacker.add 0.65 against 0.77 us a record, A/B in one process)."""

    position: int
    record: object


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    source: str  # the `source` message attribute: "file" from the Transformer, "api" from POST /writer
    receive_count: int = 1

    @classmethod
    def from_sqs(cls, record: SQSRecord) -> QueueMessage:
        source = record.message_attributes[SOURCE_ATTRIBUTE]
        return cls(
            message_id=record.message_id,
            body=record.body,
            source=(source.string_value if source else None) or "api",
            receive_count=int(record.attributes.approximate_receive_count),
        )

    def decode(self) -> tuple[Origin, list[tuple[int, object]]]:
        """The message's origin and its (position, record) pairs; never raises, whatever the body."""
        if self.source == "file":
            try:
                payload = json.loads(self.body)
                origin = Origin(kind="file", name=payload["origin"]["name"], file_id=payload["origin"]["fileId"])
                return origin, [(entry["position"], entry["record"]) for entry in payload["records"]]
            except (ValueError, KeyError, TypeError):
                pass  # not the Transformer's packing after all: read like any other body, record by record
        return self._api_records()

    def _api_records(self) -> tuple[Origin, list[tuple[int, object]]]:
        """A POST /writer body, read as the Transformer reads a file: one record, a JSON array of records or
        NDJSON, each at the byte offset of its first byte in the body (UTF-8); each unreadable record refused on
        its own."""
        body = self.body.encode("utf-8", "surrogatepass")
        origin = Origin(
            kind="api",
            name=API_ORIGIN_NAME,
            message_id=self.message_id,
            body_digest=hashlib.sha256(body).hexdigest(),
        )
        records: list[tuple[int, object]] = []
        try:
            for entry in streaming.records(io.BytesIO(body)):
                records.append(entry)
        except streaming.UnreadableFile as unreadable:
            excerpt = body[: streaming.EXCERPT_BYTES].decode("utf-8", "replace")
            records.append((unreadable.position, streaming.UnreadableRecord(f"body: {unreadable.reason}", excerpt)))
        return origin, records


class MessagePacker:
    """Packs records into as few messages as SQS allows: fewer requests, fewer Lambda invocations."""

    def __init__(self, origin: Origin) -> None:
        head = '{"origin":' + json.dumps(origin.as_attributes(), separators=(",", ":")) + ',"records":['
        self._head = head.encode()
        self._limit = MESSAGE_LIMIT_BYTES - len(b"]}")  # what the message may hold before its end
        self._message = bytearray(self._head)

    def add(self, position: int, record: object) -> tuple[str, ...]:
        """The message made full by this record (a dict, or compiled.Fields), if it no longer fits in the current
        one (else none)."""
        # msgspec's encoder, in C: the same JSON as json.dumps (UTF-8, not escaped) at a tenth of the cost, written
        # straight after the entries before it; an entry that does not fit is moved to the next message.
        message = self._message
        mark = len(message)
        first = mark == len(self._head)
        if not first:
            message += b","
        _ENCODER.encode_into(_Entry(position, record), message, -1)
        if first or len(message) <= self._limit:
            return ()
        entry = message[mark + 1 :]
        del message[mark:]
        self._message = bytearray(self._head) + entry
        return (self._close(message),)

    def flush(self) -> Iterator[str]:
        if len(self._message) > len(self._head):
            message, self._message = self._message, bytearray(self._head)
            yield self._close(message)

    @staticmethod
    def _close(message: bytearray) -> str:
        message += b"]}"
        return message.decode()
