"""Where a record came from, and why one was refused."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

EXCERPT_CHARS = 2000


@dataclass(frozen=True)
class Origin:
    """A record's provenance: a position in a file, or an API request (one SQS message)."""

    kind: str  # "file" or "api"
    name: str  # s3://bucket/key for files, "POST /writer" for the API
    file_id: str | None = None
    message_id: str | None = None

    def as_attributes(self) -> dict[str, str]:
        return {k: v for k, v in {"kind": self.kind, "name": self.name, "fileId": self.file_id}.items() if v}


@dataclass(frozen=True)
class RecordRef:
    origin: Origin
    position: int

    @property
    def key(self) -> str:
        """Stable across redeliveries and re-runs: a file record by file and position, an API record by message."""
        anchor = self.origin.file_id if self.origin.kind == "file" else self.origin.message_id
        return hashlib.sha256(f"{self.origin.kind}|{anchor}|{self.position}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Rejection:
    ref: RecordRef
    reason: str
    excerpt: str
    stage: str  # which function refused it: transformer, writer, error-handler
    received_at: str

    @classmethod
    def of(cls, ref: RecordRef, reason: str, record: object, *, stage: str) -> Rejection:
        return cls(ref, reason, excerpt(record), stage, datetime.now(UTC).isoformat())


def excerpt(record: object) -> str:
    """The record as text, bounded: enough to find and fix it, never a whole 256 KB message."""
    text = record if isinstance(record, str) else json.dumps(record, default=str, ensure_ascii=False)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
