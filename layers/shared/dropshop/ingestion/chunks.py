"""A byte range of a big NDJSON file, ingested by its own invocation (ChunkQueue → TransformerChunkFunction)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Chunk:
    """The records whose line starts in [start, end) of one upload (the object's ETag pins its content)."""

    file_id: str
    bucket: str
    key: str
    etag: str
    start: int
    end: int
    version_id: str | None = None  # the bucket version the upload's event announced

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> Chunk:
        fields = json.loads(body)
        return cls(
            file_id=str(fields["file_id"]),
            bucket=str(fields["bucket"]),
            key=str(fields["key"]),
            etag=str(fields["etag"]),
            start=int(fields["start"]),
            end=int(fields["end"]),
            version_id=fields.get("version_id"),
        )

    def rest_from(self, start: int) -> Chunk:
        """What is left of this chunk from `start` (a line start within it): handed on as a chunk of its own."""
        return Chunk(self.file_id, self.bucket, self.key, self.etag, start, self.end, self.version_id)


def split(size: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """[start, end) ranges of `chunk_bytes` covering `size` bytes: the same file, the same chunks."""
    return [(start, min(start + chunk_bytes, size)) for start in range(0, size, chunk_bytes)]
