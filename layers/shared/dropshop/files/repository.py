"""FilesTable: one item per uploaded object (pk fileId), listed newest first through the byUploadedAt index."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from dropshop.files.model import ChunkProgress, Claim, FileStatus, Ingestion, StoredFile
from dropshop.platform.dynamodb import TransactionCancelled, transact_write
from dropshop.platform.pagination import read_page

LISTING = "files"  # every file shares the index's partition: a small registry, listed by time


class FileRepository:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def register(self, file: StoredFile) -> None:
        """Create the record, or complete one a faster function created first; never a second record."""
        set_once: dict[str, str | int] = {
            "bucket": file.bucket,
            "key": file.key,
            "name": file.name,
            "etag": file.etag,
            "size": file.size,
            "uploadedAt": file.uploaded_at,
            "status": FileStatus.RECEIVED.value,
        }
        if file.version_id:
            set_once["versionId"] = file.version_id
        optional = {"contentType": file.content_type, "checksum": file.checksum, "recordCount": file.record_count}
        always: dict[str, str | int] = {"listing": LISTING, **{k: v for k, v in optional.items() if v is not None}}
        assignments = [f"#{n} = if_not_exists(#{n}, :{n})" for n in set_once] + [f"#{n} = :{n}" for n in always]
        update = {
            "TableName": self._table,
            "Key": {"fileId": {"S": file.file_id}},
            "ExpressionAttributeNames": {f"#{n}": n for n in [*set_once, *always]},
        }
        values = {f":{n}": _attribute(v) for n, v in {**set_once, **always}.items()}
        # Born un-noted, explicitly, and only at birth: a record made before the note existed has no attribute and
        # counts as noted (its valid records may have entries), and a later claim or event must not clear that.
        try:
            self._dynamodb.update_item(
                **update,
                UpdateExpression="SET " + ", ".join([*assignments, "validRecordsLogged = :unnoted"]),
                ConditionExpression="attribute_not_exists(fileId)",
                ExpressionAttributeValues=values | {":unnoted": {"BOOL": False}},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            self._dynamodb.update_item(
                **update, UpdateExpression="SET " + ", ".join(assignments), ExpressionAttributeValues=values
            )

    def claim(self, file: StoredFile, *, invocation: str, lease: timedelta) -> Claim:
        """Mark the file PROCESSING for `invocation` (the Lambda request id), unless it is PROCESSED or another
        invocation's lease still holds. The same run may always take its own claim back: Lambda retries an asynchronous
        invocation under the same request id, and only once the attempt before has failed or timed out."""
        now = datetime.now(UTC)
        self.register(file)
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"fileId": {"S": file.file_id}},
                UpdateExpression=(
                    "SET #status = :processing, leaseUntil = :until, claimedBy = :run ADD attempts :one REMOVE reason"
                ),
                ConditionExpression=(
                    "#status IN (:received, :failed) "
                    "OR (#status = :processing AND (leaseUntil < :now OR claimedBy = :run))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":processing": {"S": FileStatus.PROCESSING.value},
                    ":received": {"S": FileStatus.RECEIVED.value},
                    ":failed": {"S": FileStatus.FAILED.value},
                    ":until": {"S": (now + lease).isoformat()},
                    ":now": {"S": now.isoformat()},
                    ":run": {"S": invocation},
                    ":one": {"N": "1"},
                },
                # Why it was refused comes back with the refusal: no read (the role may not GetItem), no race.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as refused:
            item = refused.response.get("Item", {})
            # A file handed to chunks (planned, its lease removed) is the chunks' to finish, not a busy run's.
            handed_on = "chunksTotal" in item and "leaseUntil" not in item
            status = item.get("status", {}).get("S")
            return Claim.FINISHED if status == FileStatus.PROCESSED.value or handed_on else Claim.HELD
        return Claim.TAKEN

    def complete(self, file_id: str, ingestion: Ingestion, *, note: str | None = None) -> None:
        """PROCESSED with its counts; `note` (kept in `reason`) says what a person should know, e.g. empty."""
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"fileId": {"S": file_id}},
            UpdateExpression=(
                "SET #status = :processed, processedAt = :now, recordCount = :read, "
                "recordsRead = :read, recordsAccepted = :accepted, recordsRejected = :rejected"
                + (", reason = :note REMOVE leaseUntil" if note else " REMOVE leaseUntil, reason")
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                **({":note": {"S": note}} if note else {}),
                ":processed": {"S": FileStatus.PROCESSED.value},
                ":now": {"S": datetime.now(UTC).isoformat()},
                ":read": {"N": str(ingestion.records_read)},
                ":accepted": {"N": str(ingestion.accepted)},
                ":rejected": {"N": str(ingestion.rejected)},
            },
        )

    def fail(self, file_id: str, reason: str, ingestion: Ingestion | None = None) -> None:
        counts = ingestion or Ingestion(0, 0, 0)
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"fileId": {"S": file_id}},
            UpdateExpression=(
                "SET #status = :failed, reason = :reason, processedAt = :now, "
                "recordsRead = :read, recordsAccepted = :accepted, recordsRejected = :rejected REMOVE leaseUntil"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": FileStatus.FAILED.value},
                ":reason": {"S": reason[:1000]},
                ":now": {"S": datetime.now(UTC).isoformat()},
                ":read": {"N": str(counts.records_read)},
                ":accepted": {"N": str(counts.accepted)},
                ":rejected": {"N": str(counts.rejected)},
            },
        )

    def plan_chunks(self, file_id: str, total: int) -> None:
        """A file split into `total` chunks: its counters start at zero, once (a re-run's plan keeps them). The
        lease stays until the chunks are sent (hand_to_chunks): a run that dies before is retried or replayed."""
        counters = ("chunksDone", "recordsRead", "recordsAccepted", "recordsRejected")
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"fileId": {"S": file_id}},
            UpdateExpression="SET chunksTotal = if_not_exists(chunksTotal, :total), "
            + ", ".join(f"{name} = if_not_exists({name}, :zero)" for name in counters),
            ExpressionAttributeValues={":total": {"N": str(total)}, ":zero": {"N": "0"}},
        )

    def hand_to_chunks(self, file_id: str) -> None:
        """Its chunks are sent: the lease goes, the chunks finish the file, and another event for it finds it
        handed on (claim)."""
        self._dynamodb.update_item(
            TableName=self._table, Key={"fileId": {"S": file_id}}, UpdateExpression="REMOVE leaseUntil"
        )

    def count_chunk(
        self, file_id: str, start: int, ingestion: Ingestion, *, spawned: int = 0, failure: str | None = None
    ) -> bool:
        """Add one chunk's counts to its file, with the chunk's done marker in the same transaction: False
        (nothing added) when the chunk was counted before, so a redelivered chunk never counts twice.
        `spawned` chunks join the total (a chunk that handed its rest on); `failure` fails the file at its end."""
        marker = {"fileId": {"S": _chunk_key(file_id, start)}, "chunkOf": {"S": file_id}, "start": {"N": str(start)}}
        values = {
            ":one": {"N": "1"},
            ":spawned": {"N": str(spawned)},
            ":read": {"N": str(ingestion.records_read)},
            ":accepted": {"N": str(ingestion.accepted)},
            ":rejected": {"N": str(ingestion.rejected)},
        }
        update = (
            "ADD chunksDone :one, chunksTotal :spawned, "
            "recordsRead :read, recordsAccepted :accepted, recordsRejected :rejected"
        )
        if failure:
            update += " SET chunkFailure = if_not_exists(chunkFailure, :failure)"
            values[":failure"] = {"S": failure[:1000]}
        try:
            transact_write(
                self._dynamodb,
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": marker,
                            "ConditionExpression": "attribute_not_exists(fileId)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"fileId": {"S": file_id}},
                            "UpdateExpression": update,
                            "ConditionExpression": "attribute_exists(chunksTotal)",
                            "ExpressionAttributeValues": values,
                        }
                    },
                ],
            )
        except TransactionCancelled as cancelled:
            if cancelled.failed_conditions == [0]:
                return False
            raise  # a conflict or throttling (DynamoDB cancels for those too): the chunk comes again
        return True

    def complete_chunked(self, file_id: str) -> FileStatus | None:
        """The file's final status once its last chunk is counted (None before): PROCESSED, or FAILED with
        the reason a chunk gave. Whichever chunk ends last sets it; the condition lets only one do so."""
        common = "#status = :processing AND chunksDone = chunksTotal"
        outcomes = [
            (FileStatus.PROCESSED, "attribute_not_exists(chunkFailure)", ""),
            (FileStatus.FAILED, "attribute_exists(chunkFailure)", ", reason = chunkFailure"),
        ]
        for status, condition, reason in outcomes:
            try:
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key={"fileId": {"S": file_id}},
                    UpdateExpression=(
                        f"SET #status = :final, processedAt = :now, recordCount = recordsRead{reason} REMOVE leaseUntil"
                    ),
                    ConditionExpression=f"{common} AND {condition}",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":final": {"S": status.value},
                        ":processing": {"S": FileStatus.PROCESSING.value},
                        ":now": {"S": datetime.now(UTC).isoformat()},
                    },
                )
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                continue
            return status
        return None

    def note_valid_records_logged(self, file_id: str) -> None:
        """Some valid record of the file is being logged (not written, or refused by DynamoDB): a later delivery
        that writes it must look for its entry. Set before the entries are logged; never removed. A file not
        registered (no item) is left alone: valid_records_logged answers True for it. That holds because every
        message of a file follows its claim, which registers it: a file registered only after its records were
        logged would be born un-noted over entries that exist."""
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"fileId": {"S": file_id}},
                UpdateExpression="SET validRecordsLogged = :yes",
                ConditionExpression="attribute_exists(fileId)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )

    def valid_records_logged(self, file_id: str) -> bool:
        """Whether any valid record of the file may have a LogTable entry: False only for a file registered un-noted
        and never noted since; True for a file not registered, or registered before the note existed (no attribute:
        its entries may predate the note). Strongly consistent: a note set a moment ago by another delivery must
        count."""
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"fileId": {"S": file_id}},
            ProjectionExpression="fileId, validRecordsLogged",
            ConsistentRead=True,
        ).get("Item")
        return item is None or item.get("validRecordsLogged", {"BOOL": True}).get("BOOL") is not False

    def get(self, file_id: str) -> StoredFile | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"fileId": {"S": file_id}}).get("Item")
        return self._file(item) if item else None

    def newest_first(self, *, limit: int, cursor: str | None) -> tuple[list[StoredFile], str | None]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "byUploadedAt",
            "KeyConditionExpression": "listing = :listing",
            "ExpressionAttributeValues": {":listing": {"S": LISTING}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        items, next_cursor = read_page(
            self._dynamodb.query, query, cursor=cursor, key_attributes={"fileId", "listing", "uploadedAt"}
        )
        return [self._file(item) for item in items], next_cursor

    @staticmethod
    def _file(item: dict[str, Any]) -> StoredFile:
        def text(name: str) -> str | None:
            return item[name]["S"] if name in item else None

        def number(name: str) -> int | None:
            return int(item[name]["N"]) if name in item else None

        read = number("recordsRead")
        return StoredFile(
            bucket=item["bucket"]["S"],
            key=item["key"]["S"],
            etag=item["etag"]["S"],
            size=number("size") or 0,
            uploaded_at=item["uploadedAt"]["S"],
            content_type=text("contentType"),
            checksum=text("checksum"),
            status=FileStatus(item["status"]["S"]),
            processed_at=text("processedAt"),
            reason=text("reason"),
            record_count=number("recordCount"),
            ingestion=None
            if read is None
            else Ingestion(read, number("recordsAccepted") or 0, number("recordsRejected") or 0),
            version_id=text("versionId"),
            chunks=None
            if "chunksTotal" not in item
            else ChunkProgress(done=number("chunksDone") or 0, total=number("chunksTotal") or 0),
        )


def _chunk_key(file_id: str, start: int) -> str:
    """A chunk's done marker shares FilesTable; without `listing` it stays out of the files' listing."""
    return f"{file_id}#chunk#{start}"


def _attribute(value: str | int) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}
