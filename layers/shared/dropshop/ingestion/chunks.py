"""A byte range of a big file, ingested by its own invocation (ChunkQueue → TransformerChunkFunction)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass
from typing import Literal

from dropshop.ingestion.staging import Staged

# How a chunk's range is read: NDJSON lines starting in it, or a JSON array's items (it begins at a top-level
# comma's end, as planned by streaming.ArrayCuts).
Shape = Literal["lines", "items"]


@dataclass(frozen=True)
class Chunk:
    """The records starting in [start, end) of one upload (the object's ETag pins its content), or of its
    decompressed bytes staged in parts (`staged`: a gzip file; offsets are then into the decompressed stream)."""

    file_id: str
    bucket: str
    key: str
    etag: str
    start: int
    end: int
    version_id: str | None = None  # the bucket version the upload's event announced
    shape: Shape = "lines"
    staged: Staged | None = None
    # The array's last range reads past its end to the array's ']', unless its plan broke off and logs the break.
    reads_end: bool = True

    def to_json(self) -> str:
        fields = asdict(self)
        if self.staged is None:
            del fields["staged"]
        if self.reads_end:  # as every message before planned breaks were kept apart: only `false` is written
            del fields["reads_end"]
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> Chunk:
        fields = json.loads(body)
        staged = fields.get("staged")
        return cls(
            file_id=str(fields["file_id"]),
            bucket=str(fields["bucket"]),
            key=str(fields["key"]),
            etag=str(fields["etag"]),
            start=int(fields["start"]),
            end=int(fields["end"]),
            version_id=fields.get("version_id"),
            shape="items" if fields.get("shape") == "items" else "lines",  # absent before arrays were chunked
            staged=Staged(str(staged["prefix"]), int(staged["part_bytes"]), int(staged["size"])) if staged else None,
            reads_end=fields.get("reads_end") is not False,
        )

    def rest_from(self, start: int) -> Chunk:
        """What is left of this chunk from `start` (a record's start within it): handed on as a chunk of its own."""
        return dataclasses.replace(self, start=start)

    def part(self, start: int, end: int) -> Chunk:
        """Another range of the same file, read the same way."""
        return dataclasses.replace(self, start=start, end=end)


def split(size: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """[start, end) ranges of `chunk_bytes` covering `size` bytes: the same file, the same chunks."""
    return [(start, min(start + chunk_bytes, size)) for start in range(0, size, chunk_bytes)]
