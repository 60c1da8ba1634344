"""Use cases of the pipeline: transform a file, write a queue message, salvage a dead letter.

Every record that enters ends in exactly one place: AccountTable when it is valid and written, LogTable
when it is refused or cannot be written. Writes are idempotent (see AccountRepository and ErrorLog), so a
redelivery or a re-run repeats work without repeating records.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from typing import IO, Any, Literal

from pydantic import ValidationError

from dropshop.accounts import compiled
from dropshop.accounts.model import Account
from dropshop.accounts.repository import AccountRepository, SaveOutcome
from dropshop.files import service as files
from dropshop.files.model import FileStatus, Ingestion
from dropshop.ingestion import chunks
from dropshop.ingestion.chunks import Chunk, Shape
from dropshop.ingestion.error_log import ErrorLog
from dropshop.ingestion.messages import MessagePacker, QueueMessage
from dropshop.ingestion.model import Origin, RecordRef, Rejection, timestamp
from dropshop.ingestion.queue import QueueSender
from dropshop.ingestion.staging import PartsReader, PartWriter, StagedPartGone, remove_parts
from dropshop.platform import aws, streaming
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

# Enough of a file's start to tell NDJSON (split into chunks) from a JSON array, gzip or one pretty object.
HEAD_BYTES = 64 * 1024
# A gzip file's decompressed bytes are staged in parts of at most this much: the memory the split holds.
STAGED_PART_BYTES = 8 * 1024 * 1024
REJECTION_FLUSH = 25  # one BatchWriteItem's worth: memory stays flat however many records a file refuses
# The upload a chunk belongs to was replaced or deleted: no retry brings it back, so the chunk fails its file.
OBJECT_GONE = frozenset({"PreconditionFailed", "NoSuchKey", "NoSuchVersion"})
ENDED = frozenset({FileStatus.PROCESSED, FileStatus.FAILED})


class RecordsNotWritten(Exception):
    """DynamoDB would not take some records after retries: the message must come back (or go to the DLQ)."""


def _accounts() -> AccountRepository:
    return AccountRepository(aws.client("dynamodb"), settings().account_table)


def _error_log() -> ErrorLog:
    return ErrorLog(aws.client("dynamodb"), settings().log_table)


@dataclass(frozen=True)
class Validated:
    accounts: list[tuple[RecordRef, Account]]
    rejections: list[Rejection]


def validate(origin: Origin, records: Iterable[tuple[int, object]], *, stage: str, received_at: str) -> Validated:
    accounts: list[tuple[RecordRef, Account]] = []
    rejections: list[Rejection] = []
    for position, record in records:
        ref = RecordRef(origin, position)
        outcome = _account(record)
        if isinstance(outcome, Account):
            accounts.append((ref, outcome))
        else:
            rejections.append(_refusal(ref, outcome, record, stage=stage, received_at=received_at))
    return Validated(accounts, rejections)


def _account(record: object) -> Account | str:
    """The record as an Account, or why it is refused."""
    if isinstance(record, streaming.UnreadableRecord):
        return record.reason
    try:
        return Account.model_validate(record)
    except ValidationError as invalid:
        return _reason(invalid)
    except Exception as error:  # whatever one record does to validation, it is that record's refusal alone
        return f"record: {type(error).__name__}: {error}"


def _refusal(ref: RecordRef, reason: str, record: object, *, stage: str, received_at: str) -> Rejection:
    shown = record.excerpt if isinstance(record, streaming.UnreadableRecord) else record
    return Rejection.of(ref, reason, shown, stage=stage, received_at=received_at)


def _reason(invalid: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(p) for p in error['loc']) or 'record'}: {error['msg']}"
        for error in invalid.errors(include_url=False)
    ]
    return "; ".join(problems)


# ------------------------------------------------------------------ Transformer


def ingest_object(
    *, bucket: str, key: str, etag: str, size: int, uploaded_at: str, version_id: str | None, invocation: str
) -> Ingestion | ChunkPlan | None:
    """Stream one uploaded JSON file (the version the event announces) into WriterQueue, or plan a big one into
    chunks for TransformerChunkFunction (NDJSON by byte range, a JSON array on its items' boundaries, a gzip file
    decompressed into staged parts); None when it is ingested (or handed to chunks) already.
    `invocation` is the Lambda request id: a retry of a run that died takes its file back."""
    file_id = files.start_ingestion(
        bucket=bucket,
        key=key,
        etag=etag,
        size=size,
        uploaded_at=uploaded_at,
        version_id=version_id,
        invocation=invocation,
    )
    if file_id is None:
        logger.info("file already ingested", extra={"key": key})
        return None
    origin = Origin(kind="file", name=f"s3://{bucket}/{key}", file_id=file_id)
    s3 = aws.client("s3")
    where = files.locator(bucket, key, version_id)
    whole = Chunk(file_id, bucket, key, etag, 0, size, version_id)
    config = settings()
    try:  # only the reads: botocore's ClientError is also what SQS and DynamoDB raise
        # A gzip file may hold far more than its size: one named so is looked at whatever its size. An empty one
        # has no head to look at: S3 answers any range of an empty object 416 InvalidRange.
        big = size > config.ingest_chunk_bytes or (size > 0 and key.lower().endswith(".gz"))
        shape = _shape(s3, where, etag, size) if big else None
        if shape != "gzip" and size <= config.ingest_chunk_bytes:
            shape = None  # a plain file named .gz, no bigger than a chunk: read whole
        ranges = None
        if shape == "lines":
            ranges = chunks.split(size, config.ingest_chunk_bytes)
        elif shape == "items" and size <= config.ingest_split_max_bytes:
            ranges = _array_ranges(s3, where, etag, size)
    except s3.exceptions.ClientError as error:
        files.fail_ingestion(file_id, f"object could not be read: {error}")
        raise
    if shape == "items" and ranges is None:
        return _refuse(origin, streaming.UnreadableFile(0, _too_big_to_plan(size)))
    if shape in ("lines", "items") and ranges is not None:
        return _split(whole, ranges, shape=shape)
    # A read failing while a gzip file is staged raises: the run is retried, or replayed once its lease is out.
    if shape == "gzip" and (plan := _stage(s3, where, whole)):
        return plan
    try:
        body = s3.get_object(**where, IfMatch=etag)["Body"]
    except s3.exceptions.ClientError as error:
        files.fail_ingestion(file_id, f"object could not be read: {error}")
        raise
    sender = QueueSender(aws.client("sqs"), settings().writer_queue_url)
    run = Transformation(origin, sender, _error_log())
    try:
        run.ingest(body)
    except streaming.UnreadableFile as unreadable:
        # Records before the fault were sent or logged; the file says what happened, and LogTable holds one
        # entry at the position where reading stopped, so every failure is found in one place.
        run.refuse_rest(unreadable)
        run.finish()
        files.fail_ingestion(file_id, unreadable.reason, run.ingestion)
        metrics.add_metric(name="FilesFailed", unit=MetricUnit.Count, value=1)
        return run.ingestion
    except Exception as error:
        files.fail_ingestion(file_id, f"ingestion interrupted: {error}", run.ingestion)
        raise
    finally:
        body.close()
    files.finish_ingestion(file_id, run.ingestion)
    logger.info("file ingested", extra={"key": key, "ingestion": run.ingestion.as_dict()})
    return run.ingestion


def _shape(s3: Any, where: dict[str, str], etag: str, size: int) -> Literal["lines", "items", "gzip"] | None:
    """How a big file is read in chunks, by its head: NDJSON by byte range, a JSON array on its items'
    boundaries, gzip decompressed into staged parts; None (one pretty object, not JSON): read whole."""
    with closing(s3.get_object(**where, IfMatch=etag, Range=f"bytes=0-{HEAD_BYTES - 1}")["Body"]) as head:
        start = head.read()
    if start.startswith(streaming.GZIP_MAGIC):
        return "gzip"
    if streaming.splits_into_lines(start, size):
        return "lines"
    return "items" if streaming.splits_into_items(start) else None


def _too_big_to_plan(size: int) -> str:
    limit = settings().ingest_split_max_bytes
    return (
        f"the file holds {size:,} bytes: a JSON array or gzip file of more than {limit:,} bytes (decompressed) is "
        "not read (INGEST_SPLIT_MAX_BYTES, what one invocation plans into chunks in time): send it as plain NDJSON, "
        "which has no such limit"
    )


def _array_ranges(s3: Any, where: dict[str, str], etag: str, size: int) -> list[tuple[int, int]]:
    """One pass over a JSON array for its items' boundaries (nothing parsed): chunks of about IngestChunkBytes."""
    with closing(s3.get_object(**where, IfMatch=etag)["Body"]) as body:
        cuts = list(streaming.ArrayCuts(body, every=settings().ingest_chunk_bytes))
    return list(itertools.pairwise([0, *cuts, size]))


def _stage(s3: Any, where: dict[str, str], whole: Chunk) -> ChunkPlan | None:
    """A gzip file bigger than a chunk once decompressed: its bytes staged in parts of the data bucket
    (staging.py) and its chunks planned on the decompressed stream; None when it is read whole (no bigger than a
    chunk, up to where it breaks; one pretty object; not JSON: the whole-file reader says why). Its start is
    decompressed twice: a first pass (nothing kept) stops past max(IngestChunkBytes, SINGLE_RECORD_FILE_BYTES)
    (32 MiB by default), enough to choose; the second decompresses the whole file into the parts."""
    config = settings()
    with closing(s3.get_object(**where, IfMatch=whole.etag)["Body"]) as body:
        head, decompressed = streaming.decompressed_head(
            body, limit=max(config.ingest_chunk_bytes, streaming.SINGLE_RECORD_FILE_BYTES)
        )
    if decompressed <= config.ingest_chunk_bytes:
        return None
    arrays = streaming.splits_into_items(head)
    if not arrays and not streaming.splits_into_lines(head, decompressed):
        return None
    writer = PartWriter(s3, whole.bucket, whole.file_id, min(config.ingest_chunk_bytes, STAGED_PART_BYTES))
    with closing(s3.get_object(**where, IfMatch=whole.etag)["Body"]) as body:
        plan = streaming.decompress_for_chunks(
            body,
            arrays=arrays,
            every=config.ingest_chunk_bytes,
            max_bytes=config.ingest_split_max_bytes,
            sink=writer.add,
        )
    staged = writer.finish()
    ranges = list(itertools.pairwise([0, *plan.cuts, plan.end])) if plan.end else []
    return _split(
        dataclasses.replace(whole, staged=staged),
        ranges,
        shape="items" if arrays else "lines",
        failure=plan.failure,
    )


@dataclass(frozen=True)
class ChunkPlan:
    chunks: int

    def as_dict(self) -> dict[str, int]:
        return {"chunks": self.chunks}


def _split(
    whole: Chunk,
    ranges: list[tuple[int, int]],
    *,
    shape: Shape,
    failure: streaming.UnreadableFile | None = None,
) -> ChunkPlan:
    """One ChunkQueue message per chunk; the plan (counters at zero) is stored first, so no chunk can be
    counted before it, and the lease goes only once all are sent. A re-run (a retry, or a replay once the
    lease has run out) sends the same chunks again: their done markers keep each counted once. A break found
    while planning (a gzip stream corrupt or too big past its last whole record) is logged once and counted
    as a chunk of its own that fails the file, so the file ends FAILED, as read whole, once its chunks end.
    Every plan has a chunk to end its file: a range (a file bigger than a chunk, read to its end) or the break."""
    files.plan_chunks(whole.file_id, len(ranges) + (failure is not None))
    if failure is not None:
        origin = Origin(kind="file", name=f"s3://{whole.bucket}/{whole.key}", file_id=whole.file_id)
        _error_log().record([_break(origin, failure, received_at=timestamp())])
        _count_chunk(
            whole.part(failure.position, failure.position), Ingestion(0, 0, 0), rest=None, failure=failure.reason
        )
    sender = QueueSender(aws.client("sqs"), settings().chunk_queue_url)
    last = len(ranges) - 1  # its end-of-array check would log the break a second time, or another one there
    sender.send(
        dataclasses.replace(whole, start=start, end=end, shape=shape, reads_end=failure is None or n < last).to_json()
        for n, (start, end) in enumerate(ranges)
    )
    sender.flush()
    files.hand_to_chunks(whole.file_id)
    return ChunkPlan(len(ranges))


def _refuse(origin: Origin, unreadable: streaming.UnreadableFile) -> Ingestion:
    """A file refused before any record is read: FAILED with the reason, one LogTable entry at its start."""
    assert origin.file_id is not None
    _error_log().record([_break(origin, unreadable, received_at=timestamp())])
    files.fail_ingestion(origin.file_id, unreadable.reason)  # no records read: its counters stay at zero
    metrics.add_metric(name="FilesFailed", unit=MetricUnit.Count, value=1)
    return Ingestion(0, 0, 0)


def _break(origin: Origin, unreadable: streaming.UnreadableFile, *, received_at: str) -> Rejection:
    """The one LogTable entry of a file-level failure, where reading stopped: not a record."""
    reason = f"file: {unreadable.reason}"
    return Rejection.of(
        RecordRef(origin, unreadable.position), reason, "", stage="transformer", received_at=received_at
    )


def ingest_chunk(chunk: Chunk) -> None:
    """Ingest the records that begin in the chunk's range (NDJSON lines, or JSON array items, starting in it;
    for gzip, in the staged decompressed bytes), at most INGEST_CHUNK_RECORDS of them (the rest of
    the range is handed on as a chunk of its own), then count the chunk in FilesTable once, and set the
    file's final status if it was the last. Raises on an outage: the chunk alone comes again."""
    origin = Origin(kind="file", name=f"s3://{chunk.bucket}/{chunk.key}", file_id=chunk.file_id)
    s3 = aws.client("s3")
    # Lines: from the byte before the range (is a line starting at its start?); items: from its start.
    offset = chunk.start if chunk.shape == "items" else max(chunk.start - 1, 0)
    try:
        body: Any = (
            PartsReader(s3, chunk.bucket, chunk.staged, offset)
            if chunk.staged
            else s3.get_object(
                **files.locator(chunk.bucket, chunk.key, chunk.version_id),
                IfMatch=chunk.etag,
                Range=f"bytes={offset}-",
            )["Body"]
        )
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in OBJECT_GONE:
            raise
        _count_chunk(chunk, Ingestion(0, 0, 0), rest=None, failure=f"object could not be read: {error}")
        return
    run = Transformation(origin, QueueSender(aws.client("sqs"), settings().writer_queue_url), _error_log())
    rest: Chunk | None = None
    failure = None
    budget = settings().ingest_chunk_records
    try:
        bounds = {"start": chunk.start, "end": chunk.end, "max_bytes": settings().ingest_max_bytes}
        found = (
            streaming.items_in_range(body, **bounds, parse=compiled.read, reads_end=chunk.reads_end)
            if chunk.shape == "items"
            else streaming.lines_in_range(body, **bounds, parse=compiled.read)
        )
        for line_start, position, record in found:
            if run.read == budget:
                rest = chunk.rest_from(line_start)
                break
            run.take(position, record)
    except StagedPartGone as gone:
        if files.get_file(chunk.file_id).status in ENDED:
            # A copy delivered again after the file ended and its parts were removed: it was counted before.
            logger.info("chunk delivered again after its file ended", extra={"fileId": chunk.file_id})
            return
        run.refuse_rest(streaming.UnreadableFile(max(gone.position, chunk.start), gone.reason))
        failure = gone.reason
    except streaming.UnreadableFile as unreadable:
        # A staged part gone before the first byte of a lines chunk breaks at the byte before it: the break
        # belongs to this chunk, at its start, not at a position the previous chunk may log.
        run.refuse_rest(streaming.UnreadableFile(max(unreadable.position, chunk.start), unreadable.reason))
        failure = unreadable.reason
    finally:
        body.close()
    run.finish()
    # Counted first, the rest joining the total with it: the file cannot end before the rest is counted. The
    # rest is sent every time, so a redelivery that finds the chunk counted sends it again (it counts once).
    _count_chunk(chunk, run.ingestion, rest=rest, failure=failure)
    if rest:
        handing_on = QueueSender(aws.client("sqs"), settings().chunk_queue_url)
        handing_on.send([rest.to_json()])
        handing_on.flush()


def _count_chunk(chunk: Chunk, ingestion: Ingestion, *, rest: Chunk | None, failure: str | None) -> None:
    counted = files.count_chunk(chunk.file_id, chunk.start, ingestion, spawned=int(rest is not None), failure=failure)
    status = files.complete_chunked(chunk.file_id)
    if status is not None and chunk.staged is not None:  # this call ended the file: its parts are read for good
        _remove_parts(chunk)
    logger.info(
        "chunk ingested" if counted else "chunk ingested again (counted before)",
        extra={
            "fileId": chunk.file_id,
            "start": chunk.start,
            "end": chunk.end,
            "ingestion": ingestion.as_dict(),
            "handedOn": rest.start if rest else None,
            "failure": failure,
            "fileStatus": status,
        },
    )


def _remove_parts(chunk: Chunk) -> None:
    assert chunk.staged is not None
    try:
        refused = remove_parts(aws.client("s3"), chunk.bucket, chunk.staged)
    except aws.client("s3").exceptions.ClientError as error:  # the file has ended: the lifecycle removes them
        refused = [f"{chunk.staged.prefix}* ({error})"]
    if refused:
        logger.warning("staged parts left to the lifecycle rule", extra={"fileId": chunk.file_id, "parts": refused})


class Transformation:
    """One pass over a file: valid records packed and sent as it goes, refusals logged in small batches. Each
    record's bytes are read in one pass (`accounts.compiled`) when they hold a plain valid record, else read
    and validated by the Account model, which says why a record is refused."""

    def __init__(self, origin: Origin, sender: QueueSender, error_log: ErrorLog) -> None:
        self._origin = origin
        self._sender = sender
        self._error_log = error_log
        self._packer = MessagePacker(origin)
        self._rejections: list[Rejection] = []
        self._received_at = timestamp()  # its refusals' receivedAt: when this run took its file or chunk up
        self.read = self.accepted = self.rejected = 0

    @property
    def ingestion(self) -> Ingestion:
        return Ingestion(self.read, self.accepted, self.rejected)

    def ingest(self, body: IO[bytes]) -> None:
        for position, record in streaming.records(body, max_bytes=settings().ingest_max_bytes, parse=compiled.read):
            self.take(position, record)
        self.finish()

    def take(self, position: int, record: object) -> None:
        """`record` as the reader yields it with `compiled.read`: its normalised Fields, Refused, or a value for
        the model."""
        self.read += 1
        normalised: object  # what the packer encodes: compiled.Fields, or Account.as_record()'s dict
        if isinstance(record, compiled.Fields):
            normalised = record
        elif isinstance(record, compiled.Refused):
            self._reject(position, record.reason, record.excerpt)
            return
        else:
            outcome = _account(record)
            if not isinstance(outcome, Account):
                self._reject(position, outcome, record)
                return
            normalised = outcome.as_record()
        self.accepted += 1
        if full := self._packer.add(position, normalised):
            self._sender.send(full)

    def _reject(self, position: int, reason: str, record: object) -> None:
        self.rejected += 1
        ref = RecordRef(self._origin, position)
        self._rejections.append(_refusal(ref, reason, record, stage="transformer", received_at=self._received_at))
        if len(self._rejections) >= REJECTION_FLUSH:
            self._log_rejections()

    def refuse_rest(self, unreadable: streaming.UnreadableFile) -> None:
        # One LogTable entry where reading stopped, for the file: not a record, so read and rejected stay as
        # they are (read = accepted + rejected counts the records the file had before the break).
        self._rejections.append(_break(self._origin, unreadable, received_at=self._received_at))

    def finish(self) -> None:
        self._sender.send(self._packer.flush())
        self._sender.flush()
        self._log_rejections()
        metrics.add_metric(name="RecordsAccepted", unit=MetricUnit.Count, value=self.accepted)
        metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=self.rejected)

    def _log_rejections(self) -> None:
        self._error_log.record(self._rejections)
        self._rejections = []


# ------------------------------------------------------------------ Writer


def write_message(message: QueueMessage) -> None:
    """Write a message's valid records and log its refused ones; raise if anything could not be stored."""
    received_at = timestamp()
    origin, records = message.decode()
    validated = validate(origin, records, stage="writer", received_at=received_at)
    saved = _accounts().save_all([a for _, a in validated.accounts], source=origin.kind)
    refused = _refused_by_dynamodb(validated, saved, stage="writer", received_at=received_at)
    _log(origin, validated.rejections, valid=refused)
    rejections = validated.rejections + refused
    _withdraw_entries(origin, _written(validated, saved))
    written = len(validated.accounts) - len(saved.unwritten) - len(saved.refused)
    metrics.add_metric(name="RecordsWritten", unit=MetricUnit.Count, value=written)
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=len(rejections))
    if saved.unwritten:
        raise RecordsNotWritten(f"{len(saved.unwritten)} of {len(validated.accounts)} records not written")


def _written(validated: Validated, saved: SaveOutcome, *, stored: set[Account] | None = None) -> list[RecordRef]:
    """The records now in AccountTable: written by this call, or (`stored`) found there."""
    failed = (set(saved.unwritten) - (stored or set())) | {account for account, _ in saved.refused}
    return [ref for ref, account in validated.accounts if account not in failed]


def _log(origin: Origin, invalid: list[Rejection], *, valid: list[Rejection]) -> None:
    """Log refusals. Valid records (not written, or refused by DynamoDB) may be written by a later delivery, which
    must then withdraw their entries: their file is noted first, before any entry can exist."""
    if valid and origin.file_id is not None:
        files.note_valid_records_logged(origin.file_id)
    _error_log().record(invalid + valid)


def _withdraw_entries(origin: Origin, written: list[RecordRef]) -> None:
    """Exactly one table: a record written after all loses the "not written" entry an earlier delivery logged.
    Only a valid record can be logged and written both, and its file is noted before its entry is logged (_log):
    the records of a file never noted have no entry to look for, and cost no read of LogTable (one GetItem of
    the file instead of one read unit per record). Called after the writes, with strongly consistent reads: of
    a delivery writing and one logging, the later always sees the earlier (docs/pipeline.md, "Exactly one
    table"). An API body has no item to note: its records' entries are always read."""
    if not written or (origin.file_id is not None and not files.valid_records_logged(origin.file_id)):
        return
    withdrawn = _error_log().withdraw(written)
    if withdrawn:
        logger.info("entries of records written after all withdrawn", extra={"withdrawn": withdrawn})


def _refused_by_dynamodb(validated: Validated, saved: SaveOutcome, *, stage: str, received_at: str) -> list[Rejection]:
    """Records DynamoDB will never take are settled in LogTable now: retrying them would only delay."""
    if not saved.refused:
        return []
    reasons = dict(saved.refused)
    return [
        Rejection.of(
            ref,
            f"AccountTable refused the record: {reasons[account]}",
            account.as_record(),
            stage=stage,
            received_at=received_at,
        )
        for ref, account in validated.accounts
        if account in reasons
    ]


# ------------------------------------------------------------------ ErrorHandler


def salvage_message(message: QueueMessage) -> None:
    """A dead letter's records end here: written if they are valid and DynamoDB takes them now (a message
    that only met throttling costs nothing), logged with the reason otherwise. Raises only when LogTable
    itself (or FilesTable, for the note before a file's valid records are logged) is unavailable, so the message
    stays in the DLQ."""
    received_at = timestamp()
    origin, records = message.decode()
    validated = validate(origin, records, stage="error-handler", received_at=received_at)
    accounts = _accounts()
    saved = accounts.save_all([a for _, a in validated.accounts], source=origin.kind)
    # A record an earlier attempt already wrote has ended in AccountTable: it must not be logged as well.
    stored = accounts.stored(saved.unwritten)
    unwritten = set(saved.unwritten) - stored
    reason = f"not written after {message.receive_count} deliveries"
    failed = [
        Rejection.of(ref, reason, account.as_record(), stage="error-handler", received_at=received_at)
        for ref, account in validated.accounts
        if account in unwritten
    ]
    refused = _refused_by_dynamodb(validated, saved, stage="error-handler", received_at=received_at)
    _log(origin, validated.rejections, valid=failed + refused)
    # Checked again once logged: a delivery that wrote one of these records meanwhile, and read LogTable before
    # this entry existed, left it to this one to withdraw the entry.
    stored |= accounts.stored(list(unwritten))
    _withdraw_entries(origin, _written(validated, saved, stored=stored))
    not_written = sum(account not in stored for account in unwritten)
    logged = len(validated.rejections) + len(refused) + not_written
    salvaged = len(validated.accounts) - len(refused) - not_written
    metrics.add_metric(name="RecordsSalvaged", unit=MetricUnit.Count, value=salvaged)
    metrics.add_metric(name="RecordsLogged", unit=MetricUnit.Count, value=logged)
    logger.info("dead letter settled", extra={"messageId": message.message_id, "salvaged": salvaged, "logged": logged})
