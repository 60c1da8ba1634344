"""Use cases of the file registry: register uploads, follow their ingestion, list and show them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dropshop.files.model import Claim, FileStatus, Ingestion, StoredFile
from dropshop.files.repository import FileRepository
from dropshop.platform import aws
from dropshop.platform.errors import NotFound
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

# A run that dies (timeout, crash) leaves its claim. Its own retries take it back at once (same request id);
# another invocation (a duplicate event, a replay from PipelineEventsDLQ) only once the lease has run out. The
# lease outlasts the Transformer's 900 s Timeout, so no live run is ever taken over.
INGESTION_LEASE = timedelta(minutes=16)


class FileBusy(Exception):
    """Another invocation holds the file and may still be working: this event must not end as if it were done.
    Raised, Lambda retries it 1 and 2 minutes later; if the file is still held then, the event goes to
    PipelineEventsDLQ, whose alarm makes sure a file never stays PROCESSING unnoticed."""


def _files() -> FileRepository:
    return FileRepository(aws.client("dynamodb"), settings().files_table)


def register_upload(
    *, bucket: str, key: str, etag: str, size: int, uploaded_at: str, version_id: str | None
) -> StoredFile:
    """Record an object created in the data bucket, with its metadata and, for CSV/JSON, its record count:
    those of the version the event announces, not of whatever overwrote it since."""
    s3 = aws.client("s3")
    where = locator(bucket, key, version_id)
    head = s3.head_object(**where, ChecksumMode="ENABLED")
    file = StoredFile(
        bucket=bucket,
        key=key,
        etag=etag.strip('"'),
        size=size,
        uploaded_at=uploaded_at,
        content_type=head.get("ContentType"),
        checksum=head.get("ChecksumSHA256"),
        record_count=_count_records(s3, where),
        version_id=version_id,
    )
    _files().register(file)
    metrics.add_metric(name="FilesRegistered", unit=MetricUnit.Count, value=1)
    logger.info("file registered", extra={"file": file.as_dict()})
    return file


def locator(bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    """GetObject/HeadObject parameters for exactly one object version (the key's current one without an id)."""
    return {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}


def _count_records(s3: Any, where: dict[str, str]) -> int | None:
    # Files under the ingestion prefix are counted by their ingestion run: no second read of a big file.
    key = where["Key"]
    lowered = key.lower()
    if key.startswith(settings().ingest_prefix) or not lowered.endswith(
        (".csv", ".json", ".ndjson", ".json.gz", ".ndjson.gz")
    ):
        return None
    from dropshop.platform import streaming

    body = s3.get_object(**where)["Body"]
    try:
        if lowered.endswith(".csv"):
            return streaming.count_csv_rows(body)
        return sum(1 for _ in streaming.records(body, max_bytes=settings().ingest_max_bytes))
    except streaming.UnreadableFile as unreadable:
        logger.warning("records not counted", extra={"key": key, "reason": str(unreadable)})
        return None
    finally:
        body.close()


def start_ingestion(
    *, bucket: str, key: str, etag: str, size: int, uploaded_at: str, version_id: str | None, invocation: str
) -> str | None:
    """Claim a file for the ingestion run of `invocation` (the Lambda request id): its id, or None when it is
    ingested already. Raises FileBusy while another invocation's claim holds."""
    file = StoredFile(
        bucket=bucket, key=key, etag=etag.strip('"'), size=size, uploaded_at=uploaded_at, version_id=version_id
    )
    claim = _files().claim(file, invocation=invocation, lease=INGESTION_LEASE)
    if claim is Claim.HELD:
        raise FileBusy(f"{file.file_id} is being ingested by another invocation")
    return file.file_id if claim is Claim.TAKEN else None


def finish_ingestion(file_id: str, ingestion: Ingestion) -> None:
    note = "the file holds no records (it is empty, or an empty JSON array)" if not ingestion.records_read else None
    _files().complete(file_id, ingestion, note=note)


def fail_ingestion(file_id: str, reason: str, ingestion: Ingestion | None = None) -> None:
    _files().fail(file_id, reason, ingestion)


def plan_chunks(file_id: str, total: int) -> None:
    _files().plan_chunks(file_id, total)


def hand_to_chunks(file_id: str) -> None:
    _files().hand_to_chunks(file_id)


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


def note_valid_records_logged(file_id: str) -> None:
    """Before valid records of the file are logged: whoever writes one later must withdraw its entry."""
    _files().note_valid_records_logged(file_id)


def valid_records_logged(file_id: str) -> bool:
    """Whether a record of the file written now may have an entry to withdraw (True for a file not registered)."""
    return _files().valid_records_logged(file_id)


def get_file(identifier: str) -> StoredFile:
    file = _files().get(identifier)
    if file is None:
        raise NotFound(f"no file {identifier}", field="fileId")
    return file


def list_files(*, limit: int, cursor: str | None) -> dict[str, object]:
    files, next_cursor = _files().newest_first(limit=limit, cursor=cursor)
    return {"items": [f.as_dict() for f in files], "nextCursor": next_cursor}
