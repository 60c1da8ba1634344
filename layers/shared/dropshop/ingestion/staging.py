"""A gzip file's decompressed bytes, staged in the data bucket in parts, so that chunks can read any byte range
of them (gzip cannot be entered mid-stream). Parts live under STAGING_PREFIX, which the data bucket's lifecycle
expires and the file registry ignores; a file's parts are named by its id and their index, so a re-run of the
split writes the same parts again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dropshop.platform.streaming import READ_CHUNK_BYTES, UnreadableFile

STAGING_PREFIX = "staging/"
# A missing key answers 404 NoSuchKey to a caller allowed s3:ListBucket on the bucket, else 403 AccessDenied
# (GetObject, "Permissions": https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). No function
# is allowed to list the data bucket, so on AWS a gone part is AccessDenied; moto answers NoSuchKey. Both mean
# the part is gone: the chunk function's own policy grants it every part's GetObject.
PART_GONE = frozenset({"NoSuchKey", "AccessDenied"})
DELETE_BATCH = 1000  # DeleteObjects' limit per request


@dataclass(frozen=True)
class Staged:
    """Where a file's decompressed bytes are: parts of `part_bytes` (the last one shorter), `size` in all."""

    prefix: str
    part_bytes: int
    size: int

    @staticmethod
    def prefix_of(file_id: str) -> str:
        return f"{STAGING_PREFIX}{file_id}/"

    def part_key(self, index: int) -> str:
        return f"{self.prefix}{index:08d}"

    def part_keys(self) -> list[str]:
        return [self.part_key(index) for index in range(-(-self.size // self.part_bytes))]


class PartWriter:
    """A sink for decompressed bytes: every `part_bytes` of them is one PutObject (memory: one part)."""

    def __init__(self, s3: Any, bucket: str, file_id: str, part_bytes: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._staged = Staged(Staged.prefix_of(file_id), part_bytes, 0)
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._parts = 0
        self._size = 0

    def add(self, data: bytes) -> None:
        self._size += len(data)
        self._pending.append(data)
        self._pending_bytes += len(data)
        while self._pending_bytes >= self._staged.part_bytes:
            joined = b"".join(self._pending)
            self._put(joined[: self._staged.part_bytes])
            rest = joined[self._staged.part_bytes :]
            self._pending, self._pending_bytes = [rest], len(rest)

    def finish(self) -> Staged:
        if self._pending_bytes:
            self._put(b"".join(self._pending))
        self._pending, self._pending_bytes = [], 0
        return Staged(self._staged.prefix, self._staged.part_bytes, self._size)

    def _put(self, data: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=self._staged.part_key(self._parts), Body=data)
        self._parts += 1


class StagedPartGone(UnreadableFile):
    """A staged part is no longer there: expired, or removed once its file ended (a copy of a chunk delivered
    again after that finds none)."""


class PartsReader:
    """The staged bytes from `offset` to their end, as one stream: each part a GetObject when reached. A part
    gone (expired, deleted with its file, or a re-run's parts removed) ends the stream as an unreadable file at
    the offset it would have started: whether the first part or a later one, the chunk counts the records
    before it, logs the break and fails the file; no retry brings a part back."""

    def __init__(self, s3: Any, bucket: str, staged: Staged, offset: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._staged = staged
        self._offset = offset
        self._body: Any = None

    def _open(self) -> None:  # only read() calls it, while there is more to read
        if self._body is None:
            index, within = divmod(self._offset, self._staged.part_bytes)
            key = self._staged.part_key(index)
            try:
                self._body = self._s3.get_object(Bucket=self._bucket, Key=key, Range=f"bytes={within}-")["Body"]
            except self._s3.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") not in PART_GONE:
                    raise
                raise StagedPartGone(
                    self._offset, f"the staged part {key} of the decompressed file is gone: {error}"
                ) from error

    def read(self, size: int = READ_CHUNK_BYTES, /) -> bytes:
        while self._offset < self._staged.size:
            self._open()
            data = self._body.read(size)
            if data:
                self._offset += len(data)
                return bytes(data)
            self.close()  # this part is read: the next one
        return b""

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


def remove_parts(s3: Any, bucket: str, staged: Staged) -> list[str]:
    """Delete a file's staged parts once it has ended: they hold its decompressed (personal) data, which nothing
    reads any more. Named from the plan (no listing); the keys S3 would not delete, for the caller to report (the
    bucket's lifecycle removes them later). The bucket is versioned: each part becomes a noncurrent version,
    which the lifecycle expires a day later, and a delete marker, which it removes then."""
    keys = staged.part_keys()
    refused: list[str] = []
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        refused += [error["Key"] for error in answer.get("Errors", [])]
    return refused
