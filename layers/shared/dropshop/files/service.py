"""Use cases of the file registry: register uploads, follow their ingestion, list and show them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dropshop.files.model import FileStatus, Ingestion, StoredFile
from dropshop.files.repository import FileRepository
from dropshop.platform import aws
from dropshop.platform.errors import NotFound
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

# A run that dies (timeout, crash) leaves its claim; after this long another run may take the file over.
INGESTION_LEASE = timedelta(minutes=16)


def _files() -> FileRepository:
    return FileRepository(aws.client("dynamodb"), settings().files_table)


def register_upload(*, bucket: str, key: str, etag: str, size: int, uploaded_at: str) -> StoredFile:
    """Record an object created in the data bucket, with its metadata and, for CSV/JSON, its record count."""
    s3 = aws.client("s3")
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    file = StoredFile(
        bucket=bucket,
        key=key,
        etag=etag.strip('"'),
        size=size,
        uploaded_at=uploaded_at,
        content_type=head.get("ContentType"),
        checksum=head.get("ChecksumSHA256"),
        record_count=_count_records(s3, bucket, key),
    )
    _files().register(file)
    metrics.add_metric(name="FilesRegistered", unit=MetricUnit.Count, value=1)
    logger.info("file registered", extra={"file": file.as_dict()})
    return file


def _count_records(s3: Any, bucket: str, key: str) -> int | None:
    # Files under the ingestion prefix are counted by their ingestion run: no second read of a big file.
    lowered = key.lower()
    if key.startswith(settings().ingest_prefix) or not lowered.endswith(
        (".csv", ".json", ".ndjson", ".json.gz", ".ndjson.gz")
    ):
        return None
    from dropshop.platform import streaming

    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        if lowered.endswith(".csv"):
            return streaming.count_csv_rows(body)
        return sum(1 for _ in streaming.records(body, max_bytes=settings().ingest_max_bytes))
    except streaming.UnreadableFile as unreadable:
        logger.warning("records not counted", extra={"key": key, "reason": str(unreadable)})
        return None
    finally:
        body.close()


def start_ingestion(*, bucket: str, key: str, etag: str, size: int, uploaded_at: str) -> str | None:
    """Claim a file for an ingestion run: its id, or None when another run has it or has finished it."""
    file = StoredFile(bucket=bucket, key=key, etag=etag.strip('"'), size=size, uploaded_at=uploaded_at)
    return file.file_id if _files().claim(file, lease=INGESTION_LEASE) else None


def finish_ingestion(file_id: str, ingestion: Ingestion) -> None:
    note = "the file holds no records (it is empty, or an empty JSON array)" if not ingestion.records_read else None
    _files().complete(file_id, ingestion, note=note)


def fail_ingestion(file_id: str, reason: str, ingestion: Ingestion | None = None) -> None:
    _files().fail(file_id, reason, ingestion)


def plan_chunks(file_id: str, total: int) -> None:
    _files().plan_chunks(file_id, total)


def count_chunk(
    file_id: str, start: int, ingestion: Ingestion, *, spawned: int = 0, failure: str | None = None
) -> bool:
    """Add a chunk's counts to its file once; False when a redelivered chunk had been counted already."""
    return _files().count_chunk(file_id, start, ingestion, spawned=spawned, failure=failure)


def complete_chunked(file_id: str) -> FileStatus | None:
    """Set a chunked file's final status if its last chunk has been counted; the status set, or None."""
    status = _files().complete_chunked(file_id)
    if status is FileStatus.FAILED:
        metrics.add_metric(name="FilesFailed", unit=MetricUnit.Count, value=1)
    return status


def get_file(identifier: str) -> StoredFile:
    file = _files().get(identifier)
    if file is None:
        raise NotFound(f"no file {identifier}", field="fileId")
    return file


def list_files(*, limit: int, cursor: str | None) -> dict[str, object]:
    files, next_cursor = _files().newest_first(limit=limit, cursor=cursor)
    return {"items": [f.as_dict() for f in files], "nextCursor": next_cursor}
