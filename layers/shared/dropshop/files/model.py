"""A registered file and its lifecycle: RECEIVED → PROCESSING → PROCESSED, or FAILED with a reason."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from enum import StrEnum


class FileStatus(StrEnum):
    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


class Claim(StrEnum):
    """What an ingestion run learns when it asks for a file."""

    TAKEN = "TAKEN"  # this run ingests the file (first, after a failure, or taking over a dead run's claim)
    FINISHED = "FINISHED"  # PROCESSED already: nothing to do
    HELD = "HELD"  # another invocation holds a lease that has not run out: it may still be working


def file_id(bucket: str, key: str, etag: str) -> str:
    """Same object (bucket, key and content), same id: duplicate S3 events land on one record. An overwrite
    with other bytes is another file (its own version, its own ETag); the same bytes uploaded again are the
    file already registered, whose records are settled already."""
    return hashlib.sha256(f"s3://{bucket}/{key}#{etag.strip(chr(34))}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Ingestion:
    records_read: int
    accepted: int
    rejected: int

    def as_dict(self) -> dict[str, int]:
        return {"recordsRead": self.records_read, "accepted": self.accepted, "rejected": self.rejected}


@dataclass(frozen=True)
class ChunkProgress:
    """A file ingested in chunks: how many have been counted of how many (the total grows when a chunk
    hands the rest of its range on)."""

    done: int
    total: int

    def as_dict(self) -> dict[str, int]:
        return {"done": self.done, "total": self.total}


@dataclass(frozen=True)
class StoredFile:
    bucket: str
    key: str
    etag: str
    size: int
    uploaded_at: str
    content_type: str | None = None
    checksum: str | None = None
    status: FileStatus = FileStatus.RECEIVED
    processed_at: str | None = None
    reason: str | None = None
    record_count: int | None = None
    ingestion: Ingestion | None = None
    version_id: str | None = None  # the bucket version these bytes were first uploaded as
    chunks: ChunkProgress | None = None

    @property
    def file_id(self) -> str:
        return file_id(self.bucket, self.key, self.etag)

    @property
    def name(self) -> str:
        return posixpath.basename(self.key)

    def as_dict(self) -> dict[str, object]:
        view: dict[str, object] = {
            "fileId": self.file_id,
            "bucket": self.bucket,
            "key": self.key,
            "name": self.name,
            "size": self.size,
            "contentType": self.content_type,
            "etag": self.etag,
            "versionId": self.version_id,
            "checksum": self.checksum,
            "uploadedAt": self.uploaded_at,
            "processedAt": self.processed_at,
            "status": self.status.value,
            "reason": self.reason,
            "recordCount": self.record_count,
            "ingestion": self.ingestion.as_dict() if self.ingestion else None,
            "chunks": self.chunks.as_dict() if self.chunks else None,
        }
        return {k: v for k, v in view.items() if v is not None}
