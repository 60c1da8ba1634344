"""The pipeline's use cases (ingestion/service.py) called directly on moto's in-process AWS: a file's records
end in WriterQueue or LogTable and the file says how it went; a big file is planned into ChunkQueue messages whose
chunks, ingested, end the file; a queue message's records end in AccountTable or LogTable; a dead letter is
salvaged. The integration suite (tests/integration/pipeline) runs the same through the handlers and the template's
wiring; these are the fast tests mutation testing runs (docs/tests.md)."""

from __future__ import annotations

import gzip
import itertools
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from dropshop.accounts.model import Account
from dropshop.accounts.repository import AccountRepository
from dropshop.files.model import ChunkProgress, FileStatus, Ingestion
from dropshop.files.model import file_id as file_id_of
from dropshop.ingestion import service
from dropshop.ingestion.chunks import Chunk
from dropshop.ingestion.messages import QueueMessage
from dropshop.ingestion.queue import QueueUnavailable
from dropshop.ingestion.service import ChunkPlan, RecordsNotWritten
from dropshop.platform import dynamodb
from dropshop.platform.observability import metrics
from tests.support import container
from tests.support.faults import DynamoDBWeather, Faults
from tests.support.logs import LogLines
from tests.support.positions import array_positions, line_positions
from tests.support.tables import create_declared_table

BUCKET = "data"
UPLOADED_AT = "2026-12-07T08:00:00Z"


def account(number: int, **changes: object) -> dict[str, object]:
    return {
        "id": f"acc-{number}",
        "name": f"Customer {number}",
        "email": f"c{number}@example.com",
        "status": "active",
        "balanceCents": number,
        "currency": "EUR",
        "updatedAt": "2026-12-07T08:00:00Z",
    } | changes


@dataclass
class Pipeline:
    """The resources the use cases touch, as the template names their variables."""

    s3: Any
    sqs: Any
    dynamodb: Any
    writer_queue: str
    chunk_queue: str

    def upload(self, key: str, body: bytes) -> dict[str, Any]:
        put = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return {
            "bucket": BUCKET,
            "key": key,
            "etag": put["ETag"],
            "size": len(body),
            "uploaded_at": UPLOADED_AT,
            "version_id": put.get("VersionId"),
            "invocation": "request-1",
        }

    def messages(self, queue: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
        ).get("Messages", []):
            found += batch
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return found

    def sent_records(self) -> list[tuple[int, dict[str, Any]]]:
        """What reached WriterQueue, as (position, record), each message's `source` attribute "file"."""
        records = []
        for message in self.messages(self.writer_queue):
            assert message["MessageAttributes"]["source"]["StringValue"] == "file"
            records += [(entry["position"], entry["record"]) for entry in json.loads(message["Body"])["records"]]
        return records

    def chunks(self) -> list[Chunk]:
        return sorted((Chunk.from_json(m["Body"]) for m in self.messages(self.chunk_queue)), key=lambda c: c.start)

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=name)["Items"]

    def logged(self) -> dict[int, str]:
        """LogTable's entries: position → reason."""
        return {int(item["position"]["N"]): item["reason"]["S"] for item in self.table("log")}

    def entry_at(self, position: int) -> dict[str, Any]:
        [entry] = [item for item in self.table("log") if item["position"]["N"] == str(position)]
        return entry

    def entries_name(self, upload: dict[str, Any]) -> bool:
        """Every LogTable entry names the upload it came from, as an operator looks it up: its URL and file id."""
        named = {"origin": {"S": f"s3://{BUCKET}/{upload['key']}"}, "kind": {"S": "file"}}
        named["fileId"] = {"S": file_of(upload).file_id}
        return all({key: item.get(key) for key in named} == named for item in self.table("log"))

    def accounts(self) -> dict[str, int]:
        return {item["accountId"]["S"]: int(item["balanceCents"]["N"]) for item in self.table("accounts")}

    def sources(self) -> set[str]:
        """Where the stored accounts came from (`file` or `api`): AccountTable's `source`."""
        return {item["source"]["S"] for item in self.table("accounts")}


@pytest.fixture
def pipeline(aws_session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with mock_aws():
        ddb = aws_session.client("dynamodb")
        for logical, name in (("AccountTable", "accounts"), ("LogTable", "log"), ("FilesTable", "files")):
            create_declared_table(ddb, logical, name)
        sqs = aws_session.client("sqs")
        writer = sqs.create_queue(QueueName="writer")["QueueUrl"]
        chunk = sqs.create_queue(QueueName="chunks")["QueueUrl"]
        s3 = aws_session.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws_session.region_name})
        environment = {
            "ACCOUNT_TABLE": "accounts",
            "LOG_TABLE": "log",
            "FILES_TABLE": "files",
            "WRITER_QUEUE_URL": writer,
            "CHUNK_QUEUE_URL": chunk,
        }
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.0)
        container.cold_start()
        metrics.clear_metrics()
        yield Pipeline(s3, sqs, ddb, writer, chunk)
    metrics.clear_metrics()
    container.cold_start()


def counted(name: str) -> list[float]:
    """The values of metric `name` (a Count) the invocation would emit: the alarms and dashboards read them."""
    emitted = metrics.metric_set.get(name)
    if emitted is None:
        return []
    assert emitted["Unit"] == "Count"
    return list(emitted["Value"])


def configure(monkeypatch: pytest.MonkeyPatch, **variables: int) -> None:
    for key, value in variables.items():
        monkeypatch.setenv(key, str(value))
    container.cold_start()


def ndjson(records: list[object]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def file_of(upload: dict[str, Any]) -> Any:
    return service.files.get_file(file_id_of(upload["bucket"], upload["key"], upload["etag"].strip('"')))


# ------------------------------------------------------------------ a file read whole


def test_a_files_valid_records_are_sent_and_its_refusals_logged_each_once(pipeline: Pipeline) -> None:
    records: list[object] = [account(1), account(2, balanceCents="12"), account(3, name=" Ada "), 7]
    body = ndjson(records)
    first, second, third, fourth = line_positions(body)
    upload = pipeline.upload("incoming/a.ndjson", body)
    assert service.ingest_object(**upload) == Ingestion(4, 2, 2)

    sent = pipeline.sent_records()
    assert [position for position, _ in sent] == [first, third]
    assert sent[0][1] == account(1) | {"updatedAt": "2026-12-07T08:00:00.000000Z"}
    assert sent[1][1]["name"] == "Ada", "a record the model normalises is sent normalised"
    logged = pipeline.logged()
    assert set(logged) == {second, fourth}
    assert logged[second].startswith("balanceCents: ")
    assert logged[fourth].startswith("record: ")
    assert json.loads(pipeline.entry_at(second)["record"]["S"]) == records[1], "the entry shows the refused record"
    assert {pipeline.entry_at(n)["stage"]["S"] for n in (second, fourth)} == {"transformer"}, (
        "which function refused them"
    )
    assert pipeline.entries_name(upload)
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(4, 2, 2))
    assert (counted("RecordsAccepted"), counted("RecordsRejected"), counted("FilesFailed")) == ([2.0], [2.0], [])


def test_an_event_for_a_file_ingested_already_does_nothing(pipeline: Pipeline, logs: LogLines) -> None:
    upload = pipeline.upload("incoming/a.ndjson", ndjson([account(1)]))
    service.ingest_object(**upload)
    [ingested] = logs.with_message("file ingested")
    assert (ingested["key"], ingested["ingestion"]) == (upload["key"], {"recordsRead": 1, "accepted": 1, "rejected": 0})
    pipeline.sent_records()
    assert service.ingest_object(**upload | {"invocation": "request-2"}) is None
    assert pipeline.sent_records() == []
    [again] = logs.with_message("file already ingested")
    assert again["key"] == upload["key"]


def test_a_record_refused_for_several_reasons_is_logged_with_each_field_named(pipeline: Pipeline) -> None:
    upload = pipeline.upload("incoming/a.ndjson", ndjson([account(1, email="nope", status="gone")]))
    assert service.ingest_object(**upload) == Ingestion(1, 0, 1)
    email, status = pipeline.logged()[0].split("; ")
    assert email.startswith("email: String should match pattern")
    assert status.startswith("status: Input should be 'active'")


def test_every_refusal_of_a_file_is_logged_however_many(pipeline: Pipeline) -> None:
    """Refusals are logged in batches as the file is read (REJECTION_FLUSH): none is lost between batches."""
    records: list[object] = [account(n, status="gone") for n in range(2 * service.REJECTION_FLUSH + 3)]
    upload = pipeline.upload("incoming/refused.ndjson", ndjson(records))
    assert service.ingest_object(**upload) == Ingestion(len(records), 0, len(records))
    assert sorted(pipeline.logged()) == line_positions(ndjson(records))
    assert pipeline.sent_records() == []


def received_and_logged(pipeline: Pipeline) -> tuple[set[datetime], set[datetime]]:
    """LogTable's receivedAt and loggedAt times."""
    entries = pipeline.table("log")
    return (
        {datetime.fromisoformat(item["receivedAt"]["S"]) for item in entries},
        {datetime.fromisoformat(item["loggedAt"]["S"]) for item in entries},
    )


def test_a_files_refusals_are_received_when_its_run_took_the_file_up_and_logged_in_batches(pipeline: Pipeline) -> None:
    records: list[object] = [account(n, status="gone") for n in range(2 * service.REJECTION_FLUSH + 3)]
    upload = pipeline.upload("incoming/refused.json", json.dumps(records).encode()[:-1] + b", {")  # breaks off
    before = datetime.now(UTC)
    assert service.ingest_object(**upload) == Ingestion(len(records), 0, len(records))
    [received], logged = received_and_logged(pipeline)  # one clock reading for the run, the break's entry too
    assert len(pipeline.table("log")) == len(records) + 1
    assert before <= received <= min(logged) <= max(logged) <= datetime.now(UTC)
    assert received.utcoffset() == timedelta(0)


def test_a_messages_refusals_are_received_when_the_writer_took_it_up(pipeline: Pipeline) -> None:
    refuse_the_first_account(pipeline)  # DynamoDB's refusal comes after the others, once the writes are tried
    before = datetime.now(UTC)
    service.write_message(file_message([account(1), *(account(n, email="nope") for n in range(2, 30))]))
    [received], logged = received_and_logged(pipeline)
    assert len(pipeline.table("log")) == 29
    assert before <= received <= min(logged)


def test_a_file_that_breaks_off_keeps_the_records_before_and_fails_where_it_broke(pipeline: Pipeline) -> None:
    body = b"[" + json.dumps(account(1)).encode() + b"," + json.dumps(account(2, status="gone")).encode() + b", {"
    upload = pipeline.upload("incoming/broken.json", body)
    assert service.ingest_object(**upload) == Ingestion(2, 1, 1)

    second, broken = body.index(b'{"id": "acc-2"'), len(body) - 1
    assert [position for position, _ in pipeline.sent_records()] == [1]
    logged = pipeline.logged()
    assert logged[second].startswith("status: ")
    assert logged[broken].startswith(f"file: the JSON array breaks off at the record at byte {broken}")
    # The break is no record: its entry shows none, and says which function found it.
    entry = pipeline.entry_at(broken)
    assert (entry["record"], entry["stage"]) == ({"S": ""}, {"S": "transformer"})
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith(f"the JSON array breaks off at the record at byte {broken}")
    assert stored.ingestion == Ingestion(2, 1, 1)
    assert (counted("RecordsAccepted"), counted("RecordsRejected"), counted("FilesFailed")) == ([1.0], [1.0], [1.0])


def test_a_file_whose_records_cannot_be_queued_fails_as_interrupted_and_the_event_is_retried(
    pipeline: Pipeline,
) -> None:
    pipeline.sqs.delete_queue(QueueUrl=pipeline.writer_queue)
    upload = pipeline.upload("incoming/a.ndjson", ndjson([account(1), account(2, status="gone")]))
    with pytest.raises(QueueUnavailable):
        service.ingest_object(**upload)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith("ingestion interrupted: ")
    assert "could not be sent to writer" in stored.reason
    assert stored.ingestion == Ingestion(2, 1, 1), "what was read before the interruption"


def test_an_empty_file_is_processed_with_no_records(pipeline: Pipeline) -> None:
    upload = pipeline.upload("incoming/empty.json", b"[]")
    assert service.ingest_object(**upload) == Ingestion(0, 0, 0)
    assert file_of(upload).status is FileStatus.PROCESSED


@pytest.mark.parametrize("key", ["incoming/empty.ndjson", "incoming/empty.ndjson.gz"])
def test_an_empty_upload_is_processed_with_no_records_whatever_its_name(pipeline: Pipeline, key: str) -> None:
    """Not even a gzip header: an empty file named .gz is as empty as any other. Its head cannot be read by range:
    S3 answers a ranged GET of an empty object 416 InvalidRange ("Error responses",
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html; RFC 9110, 416 Range Not Satisfiable), as
    moto does, which failed the file and raised for Lambda to retry in vain."""
    upload = pipeline.upload(key, b"")
    assert service.ingest_object(**upload) == Ingestion(0, 0, 0)
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(0, 0, 0))
    assert stored.reason == "the file holds no records (it is empty, or an empty JSON array)"
    assert pipeline.logged() == {}


def test_a_file_replaced_before_it_is_read_fails_and_the_event_is_retried(pipeline: Pipeline) -> None:
    upload = pipeline.upload("incoming/replaced.ndjson", ndjson([account(1)]))
    pipeline.upload("incoming/replaced.ndjson", ndjson([account(2)]))
    with pytest.raises(pipeline.s3.exceptions.ClientError):
        service.ingest_object(**upload)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith("object could not be read: ")


def test_a_small_gzip_file_is_read_whole(pipeline: Pipeline) -> None:
    plain = ndjson([account(1), account(2)])
    upload = pipeline.upload("incoming/a.ndjson.gz", gzip.compress(plain))
    assert service.ingest_object(**upload) == Ingestion(2, 2, 0)
    assert [position for position, _ in pipeline.sent_records()] == line_positions(plain), "into the decompressed bytes"
    assert pipeline.chunks() == []


def test_a_plain_file_named_gz_no_bigger_than_a_chunk_is_read_whole(pipeline: Pipeline) -> None:
    upload = pipeline.upload("incoming/not-really.ndjson.GZ", ndjson([account(1)]))
    assert service.ingest_object(**upload) == Ingestion(1, 1, 0)


@pytest.mark.parametrize("key", ["incoming/edge.ndjson", "incoming/not-really.ndjson.gz"])
def test_a_plain_file_exactly_as_big_as_a_chunk_is_read_whole(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """A chunk is planned only for a file bigger than IngestChunkBytes: one of exactly that size is one invocation's
    read, whatever its name says."""
    body = ndjson([account(1), account(2)])
    configure(monkeypatch, INGEST_CHUNK_BYTES=len(body))
    upload = pipeline.upload(key, body)
    assert service.ingest_object(**upload) == Ingestion(2, 2, 0)
    assert pipeline.chunks() == []
    assert [position for position, _ in pipeline.sent_records()] == line_positions(body)


def test_a_files_valid_records_beyond_one_queue_message_are_sent_in_several_each_once(pipeline: Pipeline) -> None:
    """Records are packed densely, up to SQS's 256 KiB per message: a file holding more valid records than one
    message takes is sent in several, each record in exactly one of them, each message's in the file's order."""
    records: list[object] = [account(n, name="N" * 200, email=f"{'e' * 200}{n}@example.com") for n in range(1000)]
    body = ndjson(records)
    upload = pipeline.upload("incoming/many.ndjson", body)
    assert service.ingest_object(**upload) == Ingestion(1000, 1000, 0)
    messages = pipeline.messages(pipeline.writer_queue)
    assert len(messages) > 1
    assert all(len(message["Body"].encode()) <= 256 * 1024 for message in messages)
    packed = [[entry["position"] for entry in json.loads(message["Body"])["records"]] for message in messages]
    assert all(positions == sorted(positions) for positions in packed)
    sent = [entry for message in messages for entry in json.loads(message["Body"])["records"]]
    assert sorted(entry["position"] for entry in sent) == line_positions(body)
    assert sorted(entry["record"]["id"] for entry in sent) == sorted(f"acc-{n}" for n in range(1000))


# ------------------------------------------------------------------ a file read in chunks


def ingest_all(pipeline: Pipeline) -> int:
    """Ingest the chunks in ChunkQueue, and the rests they hand on, until none is left; how many were ingested."""
    done = 0
    while pending := pipeline.chunks():
        for chunk in pending:
            service.ingest_chunk(chunk)
            done += 1
    return done


def ingest_in_chunks(pipeline: Pipeline, key: str, body: bytes) -> Any:
    """Upload `body`, see it planned into more than one chunk, ingest them all: its stored file."""
    upload = pipeline.upload(key, body)
    plan = service.ingest_object(**upload)
    assert isinstance(plan, ChunkPlan)
    assert plan.chunks > 1
    ingest_all(pipeline)
    return file_of(upload)


def test_a_file_is_registered_as_its_upload_event_announced_it(pipeline: Pipeline) -> None:
    """FilesTable's entry (what GET /files shows) holds the upload: where, which version and bytes, how big, when."""
    pipeline.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    upload = pipeline.upload("incoming/a.ndjson", ndjson([account(1)]))
    service.ingest_object(**upload)
    stored = file_of(upload)
    assert (stored.bucket, stored.key, stored.etag) == (BUCKET, upload["key"], upload["etag"].strip('"'))
    assert (stored.size, stored.uploaded_at, stored.version_id) == (upload["size"], UPLOADED_AT, upload["version_id"])
    assert stored.version_id is not None


def test_a_big_file_of_one_pretty_printed_record_is_read_whole(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bigger than a chunk, but its first line does not close a record, in a file too small to hold more than one:
    no chunk could begin inside it."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=100)
    body = json.dumps(account(1), indent=2).encode()
    upload = pipeline.upload("incoming/pretty.json", body)
    assert service.ingest_object(**upload) == Ingestion(1, 1, 0)
    assert pipeline.chunks() == []
    assert [position for position, _ in pipeline.sent_records()] == [0]


def first_record_of(size: int) -> dict[str, object]:
    """A valid record whose JSON is `size` bytes long (an unknown key pads it: the model ignores it)."""
    record = account(0, notes="")
    record["notes"] = "x" * (size - len(json.dumps(record)))
    assert len(json.dumps(record)) == size
    return record


@pytest.mark.parametrize(
    ("first_bytes", "planned"),
    [(service.HEAD_BYTES, True), (service.HEAD_BYTES + 1, False)],
    ids=["first record within the head", "first record a byte longer"],
)
def test_a_big_ndjson_file_is_planned_only_when_its_first_record_ends_in_the_head(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, first_bytes: int, planned: bool
) -> None:
    """HEAD_BYTES of a file's start tell NDJSON from one pretty-printed object: a first record that ends past them
    cannot be told from one, so the file (too small to hold more than one record of that size at most) is read
    whole. Either way every record ends in WriterQueue once."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=32 * 1024)
    body = ndjson([first_record_of(first_bytes), *(account(n) for n in range(1, 21))])
    upload = pipeline.upload("incoming/long-first.ndjson", body)
    outcome = service.ingest_object(**upload)
    if planned:
        assert outcome == ChunkPlan(-(-len(body) // (32 * 1024)))
        ingest_all(pipeline)
    else:
        assert outcome == Ingestion(21, 21, 0)
    assert sorted(position for position, _ in pipeline.sent_records()) == line_positions(body)
    assert (file_of(upload).status, file_of(upload).ingestion) == (FileStatus.PROCESSED, Ingestion(21, 21, 0))


def test_a_big_ndjson_file_is_planned_into_byte_ranges_whose_chunks_end_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=400)
    records: list[object] = [account(n) if n % 5 else account(n, status="gone") for n in range(1, 21)]
    body = ndjson(records)
    upload = pipeline.upload("incoming/big.ndjson", body)

    plan = service.ingest_object(**upload)
    assert plan == ChunkPlan(-(-len(body) // 400))
    assert plan.as_dict() == {"chunks": plan.chunks}
    chunks = pipeline.chunks()
    assert [(c.start, c.end, c.shape, c.staged) for c in chunks] == [
        (start, min(start + 400, len(body)), "lines", None) for start in range(0, len(body), 400)
    ]
    assert {(c.file_id, c.bucket, c.key, c.etag, c.version_id) for c in chunks} == {
        (file_of(upload).file_id, BUCKET, upload["key"], upload["etag"], upload["version_id"])
    }
    stored = file_of(upload)
    assert stored.status is FileStatus.PROCESSING
    assert stored.chunks == ChunkProgress(0, plan.chunks)

    for chunk in chunks:
        service.ingest_chunk(chunk)
    offsets = [0]
    for record in records[:-1]:
        offsets.append(offsets[-1] + len(json.dumps(record)) + 1)
    active = [offset for offset, record in zip(offsets, records, strict=True) if record["status"] == "active"]  # type: ignore[index]
    assert sorted(position for position, _ in pipeline.sent_records()) == active
    assert sorted(pipeline.logged()) == sorted(set(offsets) - set(active))
    assert pipeline.entries_name(upload)
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(20, 16, 4))


def test_a_redelivered_chunk_is_ingested_again_but_counted_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=400)
    upload = pipeline.upload("incoming/big.ndjson", ndjson([account(n) for n in range(10)]))
    service.ingest_object(**upload)
    chunks = pipeline.chunks()
    service.ingest_chunk(chunks[0])
    service.ingest_chunk(chunks[0])
    assert file_of(upload).chunks == ChunkProgress(1, len(chunks))
    [again] = logs.with_message("chunk ingested again (counted before)")
    assert (again["start"], again.get("handedOn")) == (0, None)
    for chunk in chunks[1:]:
        service.ingest_chunk(chunk)
    assert file_of(upload).ingestion == Ingestion(10, 10, 0)
    assert logs.with_message("chunk ingested")[-1]["fileStatus"] == "PROCESSED"


def test_a_chunk_reads_at_most_its_record_budget_and_hands_on_the_rest(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=1200, INGEST_CHUNK_RECORDS=3)
    records: list[object] = [account(n) for n in range(10, 20)]  # 10 lines of 160 bytes: 2 chunks
    line = len(json.dumps(records[0])) + 1
    upload = pipeline.upload("incoming/big.ndjson", ndjson(records))
    assert service.ingest_object(**upload) == ChunkPlan(2)
    first, second = pipeline.chunks()
    service.ingest_chunk(first)
    [rest] = pipeline.chunks()
    assert rest == first.rest_from(3 * line)
    [counted] = logs.with_message("chunk ingested")
    assert {key: counted.get(key) for key in ("fileId", "start", "end", "ingestion", "handedOn", "failure")} == {
        "fileId": first.file_id,
        "start": 0,
        "end": 1200,
        "ingestion": {"recordsRead": 3, "accepted": 3, "rejected": 0},
        "handedOn": 3 * line,
        "failure": None,
    }
    assert counted.get("fileStatus") is None
    assert [position for position, _ in pipeline.sent_records()] == [0, line, 2 * line]
    assert file_of(upload).chunks == ChunkProgress(1, 3)
    service.ingest_chunk(rest)
    service.ingest_chunk(second)
    assert ingest_all(pipeline) == 1  # the rest's rest: the last 2 of the first chunk's 8 records
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(10, 10, 0))
    assert stored.chunks == ChunkProgress(4, 4)


def test_a_chunk_of_an_upload_replaced_meanwhile_fails_its_file(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=400)
    upload = pipeline.upload("incoming/big.ndjson", ndjson([account(n) for n in range(10)]))
    service.ingest_object(**upload)
    chunks = pipeline.chunks()
    pipeline.upload("incoming/big.ndjson", b"replaced")
    for chunk in chunks:
        service.ingest_chunk(chunk)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert "object could not be read: " in stored.reason
    assert stored.ingestion == Ingestion(0, 0, 0)
    assert pipeline.sent_records() == []
    # What the operator reads per chunk: each failed, and why; the last one ended the file.
    counted_lines = logs.with_message("chunk ingested")
    assert [line["start"] for line in counted_lines] == [chunk.start for chunk in chunks]
    assert all(line["failure"].startswith("object could not be read: ") for line in counted_lines)
    assert counted_lines[-1]["fileStatus"] == "FAILED"


def test_in_the_versioned_data_bucket_an_upload_overwritten_meanwhile_is_read_in_the_version_announced(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DataBucket is versioned (template.yaml): the event names the version uploaded, which every read asks for,
    whole or by chunk, so a later upload of the same key neither fails nor changes this one's ingestion."""
    pipeline.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    configure(monkeypatch, INGEST_CHUNK_BYTES=400)
    small = pipeline.upload("incoming/small.ndjson", ndjson([account(1)]))
    big = pipeline.upload("incoming/big.ndjson", ndjson([account(n) for n in range(10)]))
    assert small["version_id"] is not None
    pipeline.upload("incoming/small.ndjson", b"replaced")
    assert service.ingest_object(**small) == Ingestion(1, 1, 0)
    plan = service.ingest_object(**big)
    assert isinstance(plan, ChunkPlan)
    pipeline.upload("incoming/big.ndjson", b"replaced")
    assert ingest_all(pipeline) == plan.chunks
    assert (file_of(big).status, file_of(big).ingestion) == (FileStatus.PROCESSED, Ingestion(10, 10, 0))


def test_a_chunk_reading_beyond_the_byte_limit_fails_its_file_for_that_reason(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bomb guard INGEST_MAX_BYTES bounds what each chunk reads, as it bounds a file read whole."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=1200, INGEST_MAX_BYTES=1000)
    upload = pipeline.upload("incoming/big.ndjson", ndjson([account(n) for n in range(10, 20)]))
    assert service.ingest_object(**upload) == ChunkPlan(2)
    ingest_all(pipeline)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith("the file holds more than 1,000 bytes once decompressed (INGEST_MAX_BYTES)")


def test_a_chunk_meeting_an_outage_raises_to_come_again(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=400)
    upload = pipeline.upload("incoming/big.ndjson", ndjson([account(n) for n in range(10)]))
    service.ingest_object(**upload)
    chunks = pipeline.chunks()
    with pytest.raises(pipeline.s3.exceptions.ClientError):
        service.ingest_chunk(Chunk.from_json(chunks[0].to_json().replace(BUCKET, "no-such-bucket")))
    assert file_of(upload).chunks == ChunkProgress(0, len(chunks))


def test_a_big_json_array_is_cut_after_its_items_and_each_item_read_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=500)
    records: list[object] = [account(n) if n % 4 else "broken" for n in range(1, 16)]
    upload = pipeline.upload("incoming/big.json", json.dumps(records).encode())
    plan = service.ingest_object(**upload)
    assert isinstance(plan, ChunkPlan)
    assert plan.chunks > 1
    chunks = pipeline.chunks()
    assert {c.shape for c in chunks} == {"items"}
    assert chunks[0].start == 0
    assert chunks[-1].end == upload["size"]
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    for chunk in chunks:
        service.ingest_chunk(chunk)
    # In a file read in chunks a record's position is the offset of its first byte: "[" then items and ", ".
    offsets = [1]
    for record in records[:-1]:
        offsets.append(offsets[-1] + len(json.dumps(record)) + 2)
    sent = pipeline.sent_records()
    assert [record for _, record in sorted(sent)] == [
        r | {"updatedAt": "2026-12-07T08:00:00.000000Z"} for r in records if isinstance(r, dict)
    ]
    assert sorted(p for p, _ in sent) == [offsets[n] for n in range(15) if (n + 1) % 4]
    assert sorted(pipeline.logged()) == [offsets[n] for n in (3, 7, 11)]
    assert file_of(upload).ingestion == Ingestion(15, 12, 3)


def test_a_json_array_beyond_what_can_be_planned_is_refused_whole(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=500, INGEST_SPLIT_MAX_BYTES=1000)
    upload = pipeline.upload("incoming/huge.json", json.dumps([account(n) for n in range(20)]).encode())
    assert service.ingest_object(**upload) == Ingestion(0, 0, 0)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason == (
        f"the file holds {upload['size']:,} bytes: a JSON array or gzip file of more than 1,000 bytes (decompressed) "
        "is not read (INGEST_SPLIT_MAX_BYTES, what one invocation plans into chunks in time): send it as plain "
        "NDJSON, which has no such limit"
    )
    assert stored.ingestion == Ingestion(0, 0, 0)
    assert list(pipeline.logged()) == [0]
    assert pipeline.chunks() == []
    assert counted("FilesFailed") == [1.0]


def test_a_json_array_as_big_as_what_can_be_planned_is_planned(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps([account(n) for n in range(20)]).encode()
    configure(monkeypatch, INGEST_CHUNK_BYTES=500, INGEST_SPLIT_MAX_BYTES=len(body))
    upload = pipeline.upload("incoming/big.json", body)
    plan = service.ingest_object(**upload)
    assert isinstance(plan, ChunkPlan)
    ingest_all(pipeline)
    assert (file_of(upload).status, file_of(upload).ingestion) == (FileStatus.PROCESSED, Ingestion(20, 20, 0))


def test_a_big_json_array_that_breaks_off_fails_in_its_last_chunk_where_it_broke(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=500)
    whole = json.dumps([account(n) for n in range(1, 16)]).encode()
    broken_at = whole.rindex(b'{"id"')  # the last item's first byte
    stored = ingest_in_chunks(pipeline, "incoming/broken.json", whole[: broken_at + 20])
    assert stored.status is FileStatus.FAILED
    assert stored.reason == f"the JSON array breaks off at the record at byte {broken_at}: the input ends before ']'"
    assert stored.ingestion == Ingestion(14, 14, 0)
    assert pipeline.logged() == {broken_at: f"file: {stored.reason}"}


@pytest.mark.parametrize(
    "ending",
    [b"] and more", b","],
    ids=["data after the closing bracket", "ends after a comma"],
)
def test_a_big_json_array_that_ends_wrong_after_its_last_item_fails_in_chunks_as_read_whole(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, ending: bytes
) -> None:
    """The range that ends the file reads the array's end too: what follows the last item fails the file, at the
    same position and for the same reason as when the file is read whole."""
    body = json.dumps([account(n) for n in range(1, 16)]).encode()[:-1] + ending
    whole = pipeline.upload("incoming/whole.json", body)
    assert service.ingest_object(**whole) == Ingestion(15, 15, 0)
    read_whole = (file_of(whole).status, file_of(whole).reason, pipeline.logged())
    for entry in pipeline.table("log"):
        pipeline.dynamodb.delete_item(TableName="log", Key={"entryId": entry["entryId"]})
    configure(monkeypatch, INGEST_CHUNK_BYTES=500)
    stored = ingest_in_chunks(pipeline, "incoming/chunked.json", body)
    assert read_whole[0] is FileStatus.FAILED
    assert (stored.status, stored.reason, stored.ingestion) == (FileStatus.FAILED, read_whole[1], Ingestion(15, 15, 0))
    assert pipeline.logged() == read_whole[2]


def test_a_big_gzip_file_is_staged_decompressed_and_read_in_chunks(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=600)
    records: list[object] = [account(n) for n in range(1, 31)]
    plain = ndjson(records)
    upload = pipeline.upload("incoming/big.ndjson.gz", gzip.compress(plain))
    plan = service.ingest_object(**upload)
    assert plan == ChunkPlan(-(-len(plain) // 600))
    chunks = pipeline.chunks()
    assert all(c.staged is not None and c.staged.size == len(plain) for c in chunks)
    assert chunks[-1].end == len(plain)
    assert {c.shape for c in chunks} == {"lines"}
    # Staged in parts of at most a chunk (so is the memory the split holds), together the decompressed file.
    parts = pipeline.s3.list_objects_v2(Bucket=BUCKET, Prefix="staging/")["Contents"]
    assert max(part["Size"] for part in parts) == 600
    assert sum(part["Size"] for part in parts) == len(plain)
    for chunk in chunks:
        service.ingest_chunk(chunk)
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(30, 30, 0))
    staged = pipeline.s3.list_objects_v2(Bucket=BUCKET, Prefix="staging/").get("Contents", [])
    assert staged == [], "the last chunk removes the staged parts"
    # A copy of a chunk delivered again once its file has ended finds no parts: it was counted, nothing to do.
    service.ingest_chunk(chunks[1])
    assert file_of(upload) == stored
    assert logs.with_message("chunk delivered again after its file ended")[0]["fileId"] == stored.file_id


def test_a_staged_part_gone_before_its_chunks_are_read_fails_the_file_where_it_is_missing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part expired by the lifecycle rule (a chunk delayed past it) or removed: the chunks that need it cannot be
    read, so the file fails, each of those chunks logging where it stopped, and the other chunks' records stay."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=600)
    records: list[object] = [account(n) for n in range(1, 31)]
    upload = pipeline.upload("incoming/big.ndjson.gz", gzip.compress(ndjson(records)))
    service.ingest_object(**upload)
    chunks = pipeline.chunks()
    staged = chunks[0].staged
    assert staged is not None
    pipeline.s3.delete_object(Bucket=BUCKET, Key=staged.part_key(2))
    for chunk in chunks:
        service.ingest_chunk(chunk)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert staged.part_key(2) in stored.reason
    # Each chunk that needed the part fails where its reading stopped: at the part's first byte, or its own start.
    assert pipeline.logged() == {2 * 600: f"file: {stored.reason}", 3 * 600: f"file: {stored.reason}"}
    sent = sorted(p for p, _ in pipeline.sent_records())
    assert stored.ingestion == Ingestion(len(sent), len(sent), 0)
    # Lost: the lines that reach into the part, and those of the chunk that begins in it (it reads from the byte
    # before its start); kept: the lines before the part, and those of the chunks after.
    ends = list(itertools.accumulate(len(json.dumps(record)) + 1 for record in records))
    lines = list(zip([0, *ends[:-1]], ends, strict=True))
    assert sent == [start for start, end in lines if end <= 2 * 600 or start >= 4 * 600]


def test_a_staged_part_s3_cannot_serve_now_raises_so_the_chunk_comes_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not gone, only unavailable: S3 answers 503 SlowDown or 500 InternalError and asks to retry ("Error
    responses", https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). The chunk raises and is not
    counted, so its message comes again, and once S3 serves the part the file ends as if nothing happened."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=600)
    upload = pipeline.upload("incoming/big.ndjson.gz", gzip.compress(ndjson([account(n) for n in range(1, 31)])))
    service.ingest_object(**upload)
    chunks = pipeline.chunks()
    outage = True

    def slow_down(params: dict[str, Any], **_: Any) -> None:
        if outage and params["Key"].startswith("staging/"):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate."}}, "GetObject")

    service.aws.client("s3").meta.events.register("provide-client-params.s3.GetObject", slow_down)
    with pytest.raises(ClientError, match="SlowDown"):
        service.ingest_chunk(chunks[0])
    stored = file_of(upload)
    assert (stored.status, stored.chunks) == (FileStatus.PROCESSING, ChunkProgress(0, len(chunks)))
    assert pipeline.logged() == {}
    outage = False
    for chunk in chunks:
        service.ingest_chunk(chunk)
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(30, 30, 0))


@pytest.mark.parametrize(
    ("shorter_chunk", "planned"), [(0, False), (1, True)], ids=["as big as a chunk", "one byte more than a chunk"]
)
def test_a_gzip_file_is_planned_into_chunks_only_when_it_decompresses_to_more_than_one(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, shorter_chunk: int, planned: bool
) -> None:
    plain = ndjson([account(n) for n in range(1, 6)])
    configure(monkeypatch, INGEST_CHUNK_BYTES=len(plain) - shorter_chunk)
    upload = pipeline.upload("incoming/edge.ndjson.gz", gzip.compress(plain))
    outcome = service.ingest_object(**upload)
    if planned:
        assert outcome == ChunkPlan(2)
        ingest_all(pipeline)
    else:
        assert outcome == Ingestion(5, 5, 0)
        assert pipeline.chunks() == []
    assert sorted(position for position, _ in pipeline.sent_records()) == line_positions(plain), (
        "the same positions planned or read whole"
    )
    assert (file_of(upload).status, file_of(upload).ingestion) == (FileStatus.PROCESSED, Ingestion(5, 5, 0))


def test_a_big_gzip_file_of_one_pretty_printed_record_is_read_whole(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decompressed beyond a chunk, but neither an array nor NDJSON: one record, which no chunk can begin inside."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=100)
    plain = json.dumps(account(1), indent=2).encode()
    assert len(plain) > 100
    upload = pipeline.upload("incoming/pretty.json.gz", gzip.compress(plain))
    assert service.ingest_object(**upload) == Ingestion(1, 1, 0)
    assert pipeline.chunks() == []
    assert [position for position, _ in pipeline.sent_records()] == [0]
    assert (file_of(upload).status, file_of(upload).ingestion) == (FileStatus.PROCESSED, Ingestion(1, 1, 0))
    assert pipeline.s3.list_objects_v2(Bucket=BUCKET, Prefix="staging/").get("Contents", []) == [], "nothing staged"


def test_a_big_gzip_file_that_is_not_json_fails_whole_for_why_the_reader_refuses_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=100)
    upload = pipeline.upload("incoming/words.ndjson.gz", gzip.compress(b"not json at all " * 20))
    assert service.ingest_object(**upload) == Ingestion(0, 0, 0)
    assert pipeline.chunks() == []
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert list(pipeline.logged()) == [0]
    assert pipeline.logged()[0] == f"file: {stored.reason}"


def test_a_big_gzip_json_array_is_staged_and_read_in_chunks_on_its_items(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=600)
    records: list[object] = [account(n) if n % 4 else "broken" for n in range(1, 16)]
    plain = json.dumps(records).encode()
    upload = pipeline.upload("incoming/big.json.gz", gzip.compress(plain))
    plan = service.ingest_object(**upload)
    assert isinstance(plan, ChunkPlan)
    chunks = pipeline.chunks()
    assert len(chunks) == plan.chunks > 1
    assert {c.shape for c in chunks} == {"items"}
    assert (chunks[0].start, chunks[-1].end) == (0, len(plain))
    for chunk in chunks:
        service.ingest_chunk(chunk)
    # Positions are offsets into the decompressed stream, as for a plain array read in chunks.
    offsets = [1]
    for record in records[:-1]:
        offsets.append(offsets[-1] + len(json.dumps(record)) + 2)
    assert sorted(p for p, _ in pipeline.sent_records()) == [offsets[n] for n in range(15) if (n + 1) % 4]
    assert sorted(pipeline.logged()) == [offsets[n] for n in (3, 7, 11)]
    stored = file_of(upload)
    assert (stored.status, stored.ingestion) == (FileStatus.PROCESSED, Ingestion(15, 12, 3))


def test_a_big_gzip_file_whose_first_record_outgrows_the_head_is_still_read_in_chunks(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first line does not end in the first 64 KiB decompressed, so the head alone cannot tell NDJSON from one
    pretty-printed object: the decompressed size does, past what one record may hold (SINGLE_RECORD_FILE_BYTES), so
    the file is planned into chunks, not read whole by one invocation."""
    chunk_bytes = 512 * 1024
    configure(monkeypatch, INGEST_CHUNK_BYTES=chunk_bytes)
    padding = "x" * (80 * 1024)  # an unknown key: ignored by the model, so each record stays valid
    records: list[object] = [account(n, notes=padding) for n in range(16)]
    plain = ndjson(records)
    assert len(plain) // len(records) > service.HEAD_BYTES
    assert len(plain) > service.streaming.SINGLE_RECORD_FILE_BYTES
    upload = pipeline.upload("incoming/padded.ndjson.gz", gzip.compress(plain))
    assert service.ingest_object(**upload) == ChunkPlan(-(-len(plain) // chunk_bytes))
    assert {c.shape for c in pipeline.chunks()} == {"lines"}


def test_a_gzip_file_that_breaks_after_its_first_chunk_fails_once_its_chunks_end(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    configure(monkeypatch, INGEST_CHUNK_BYTES=600)
    compressed = gzip.compress(ndjson([account(n) for n in range(1, 31)]))
    upload = pipeline.upload("incoming/cut.ndjson.gz", compressed[: len(compressed) * 2 // 3])
    plan = service.ingest_object(**upload)
    assert isinstance(plan, ChunkPlan)
    assert file_of(upload).chunks == ChunkProgress(1, plan.chunks + 1), "the break is counted as a chunk"
    ingest_all(pipeline)
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith("the gzip-compressed file is corrupt")
    sent = len(pipeline.sent_records())
    assert sent > 0
    assert stored.ingestion == Ingestion(sent, sent, 0), "the break is no record: only the records before count"
    [(position, reason)] = pipeline.logged().items()
    assert reason == f"file: {stored.reason}"
    assert position > 0
    assert pipeline.entries_name(upload)
    # What the operator reads of the break's own chunk: an empty range where the plan broke off, and why.
    [broken] = [line for line in logs.with_message("chunk ingested") if line.get("failure")]
    assert (broken["start"], broken["end"], broken["failure"]) == (position, position, stored.reason)
    assert broken["ingestion"] == {"recordsRead": 0, "accepted": 0, "rejected": 0}


def gzip_cut_after(plain: bytes) -> bytes:
    """`plain` gzip-compressed, the stream ending after it without gzip's end: truncated exactly there."""
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(plain) + compressor.flush(zlib.Z_SYNC_FLUSH)


ITEMS = json.dumps([account(n) for n in range(1, 31)]).encode()[:-1] + b","  # not closed: a comma ends them
BIG_ITEMS = json.dumps([account(n, notes="x" * 20_000) for n in range(5)]).encode()[:-1] + b","


@pytest.mark.parametrize(
    ("compressed", "position", "reason"),
    [
        # Past INGEST_SPLIT_MAX_BYTES in the whitespace after a comma: the last chunk read the staged whitespace
        # to its end and logged a second break there.
        (gzip.compress(ITEMS + b" " * 500_000 + b"]"), len(ITEMS), "the file holds more than 200,000 bytes"),
        # Truncated just after a comma, its items bigger than the reader's 16 KiB read-ahead: the last chunk
        # logged its own break at the plan's, replacing the plan's reason in LogTable.
        (gzip_cut_after(BIG_ITEMS), len(BIG_ITEMS), "the gzip-compressed file is corrupt or truncated"),
    ],
    ids=["split limit in whitespace", "truncated after a comma"],
)
def test_a_big_gzip_json_array_planned_with_a_break_logs_it_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, compressed: bytes, position: int, reason: str
) -> None:
    """The plan logs the break after the last whole item; the last chunk ends there and reads no further."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=600, INGEST_SPLIT_MAX_BYTES=200_000)
    stored = ingest_in_chunks(pipeline, "incoming/broken.json.gz", compressed)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith(reason)
    assert pipeline.logged() == {position: f"file: {stored.reason}"}
    sent = len(pipeline.sent_records())
    assert stored.ingestion == Ingestion(sent, sent, 0)


def test_a_gzip_file_beyond_the_split_limit_before_its_first_record_fails_at_once_with_no_chunk(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No whole record precedes the limit: the break is the plan's only chunk, so the file ends as it is planned."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=600, INGEST_SPLIT_MAX_BYTES=1000)
    upload = pipeline.upload("incoming/big.ndjson.gz", gzip.compress(ndjson([account(n) for n in range(1, 31)])))
    assert service.ingest_object(**upload) == ChunkPlan(0)
    assert pipeline.chunks() == []
    stored = file_of(upload)
    assert (stored.status, stored.chunks, stored.ingestion) == (
        FileStatus.FAILED,
        ChunkProgress(1, 1),
        Ingestion(0, 0, 0),
    )
    assert stored.reason is not None
    assert stored.reason.startswith("the file holds more than 1,000 bytes once decompressed (INGEST_SPLIT_MAX_BYTES)")
    assert pipeline.logged() == {0: f"file: {stored.reason}"}


def replaced_when_read_again(pipeline: Pipeline, key: str, reads: int, by: bytes = b"[]") -> None:
    """Another upload of `key` (`by`) lands after the use case's first `reads` GetObjects of it: S3 overwrites are
    atomic, and a later read of the first version's ETag (IfMatch) answers PreconditionFailed."""
    seen = 0

    def overwrite(params: dict[str, Any], **_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == reads + 1:
            pipeline.s3.put_object(Bucket=BUCKET, Key=key, Body=by)

    service.aws.client("s3").meta.events.register("before-call.s3.GetObject", overwrite)


ARRAY = json.dumps([account(n) for n in range(20)]).encode()


@pytest.mark.parametrize(
    ("key", "body", "reads", "failed"),
    [
        ("incoming/big.json", ARRAY, 1, True),  # after the head: the pass finding the items' boundaries
        ("incoming/big.ndjson.gz", gzip.compress(ndjson([account(n) for n in range(20)])), 1, False),  # first pass
        ("incoming/big.ndjson.gz", gzip.compress(ndjson([account(n) for n in range(20)])), 2, False),  # staging
        ("incoming/big.json.gz", gzip.compress(ARRAY), 1, False),
        ("incoming/big.json.gz", gzip.compress(ARRAY), 2, False),
    ],
    ids=["array", "gzip lines, first pass", "gzip lines, staging", "gzip array, first pass", "gzip array, staging"],
)
def test_an_upload_replaced_while_it_is_planned_fails_rather_than_planning_other_bytes(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, key: str, body: bytes, reads: int, failed: bool
) -> None:
    """A plain file's reads fail it at once; a read failing while a gzip file is staged leaves it to the run's
    retry (or to a replay once its lease is out), which fails it the same way."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=500)
    upload = pipeline.upload(key, body)
    replaced_when_read_again(pipeline, key, reads)
    with pytest.raises(pipeline.s3.exceptions.ClientError, match="PreconditionFailed"):
        service.ingest_object(**upload)
    assert pipeline.chunks() == []
    stored = file_of(upload)
    assert stored.status is (FileStatus.FAILED if failed else FileStatus.PROCESSING)
    if failed:
        assert stored.reason is not None
        assert stored.reason.startswith("object could not be read: ")
        assert "PreconditionFailed" in stored.reason


def test_a_big_ndjson_upload_replaced_before_it_is_looked_at_fails_with_no_chunk(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaced by other NDJSON before its head is read: the head is read in the version the event announced too
    (IfMatch), so no chunk is planned from another upload's bytes."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=500)
    upload = pipeline.upload("incoming/big.ndjson", ndjson([account(n) for n in range(20)]))
    replaced_when_read_again(pipeline, "incoming/big.ndjson", 0, by=ndjson([account(n) for n in range(30)]))
    with pytest.raises(pipeline.s3.exceptions.ClientError, match="PreconditionFailed"):
        service.ingest_object(**upload)
    assert pipeline.chunks() == []
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith("object could not be read: ")


# ------------------------------------------------------------------ Writer and ErrorHandler


def file_message(
    records: list[object], message_id: str = "m-1", receive_count: int = 1, file_id: str = "f-1"
) -> QueueMessage:
    body = {
        "origin": {"kind": "file", "name": "s3://data/incoming/a.json", "fileId": file_id},
        "records": [{"position": n, "record": record} for n, record in enumerate(records)],
    }
    return QueueMessage(message_id, json.dumps(body), "file", receive_count)


def test_a_messages_valid_records_are_written_and_its_refused_ones_logged(pipeline: Pipeline) -> None:
    service.write_message(file_message([account(1), account(2, email="nope"), account(3)]))
    assert pipeline.accounts() == {"acc-1": 1, "acc-3": 3}
    assert pipeline.sources() == {"file"}
    assert list(pipeline.logged()) == [1]
    assert pipeline.logged()[1].startswith("email: ")
    assert pipeline.entry_at(1)["stage"] == {"S": "writer"}
    assert json.loads(pipeline.entry_at(1)["record"]["S"]) == account(2, email="nope"), "the entry shows the record"
    assert (counted("RecordsWritten"), counted("RecordsRejected")) == ([2.0], [1.0])


def test_records_dynamodb_does_not_take_raise_so_the_message_comes_again(pipeline: Pipeline) -> None:
    Faults(outage=10**6, tables={"accounts"}).attach(service.aws.client("dynamodb"))
    with pytest.raises(RecordsNotWritten, match="2 of 2 records not written"):
        service.write_message(file_message([account(1), account(2)]))
    assert pipeline.logged() == {}
    assert counted("RecordsWritten") == [0.0]


def test_a_record_written_after_all_loses_the_entry_an_earlier_delivery_logged(
    pipeline: Pipeline, logs: LogLines
) -> None:
    message = file_message([account(1)], receive_count=2)
    faults = Faults(outage=10**6, tables={"accounts"})
    faults.attach(service.aws.client("dynamodb"))
    service.salvage_message(message)
    assert pipeline.logged()[0] == "not written after 2 deliveries"
    entry = pipeline.entry_at(0)
    assert entry["stage"] == {"S": "error-handler"}
    assert json.loads(entry["record"]["S"])["id"] == "acc-1", "the entry shows the record, to fix and send again"
    assert (counted("RecordsSalvaged"), counted("RecordsLogged")) == ([0.0], [1.0])
    container.cold_start()
    service.write_message(message)
    assert pipeline.accounts() == {"acc-1": 1}
    assert pipeline.logged() == {}
    [withdrawn] = logs.with_message("entries of records written after all withdrawn")
    assert withdrawn["withdrawn"] == 1


def registered(pipeline: Pipeline) -> str:
    """The id of a file registered as the Transformer registers every file before any message of it is sent."""
    upload = pipeline.upload("incoming/registered.ndjson", ndjson([]))
    service.ingest_object(**upload)
    return str(file_of(upload).file_id)


def test_a_registered_files_record_written_after_all_loses_the_entry_an_earlier_delivery_logged(
    pipeline: Pipeline,
) -> None:
    """The file is noted before its valid record is logged "not written", so the delivery that writes it later
    looks for the entry (a registered file never noted would not be looked up)."""
    message = file_message([account(1)], receive_count=2, file_id=registered(pipeline))
    faults = Faults(outage=10**6, tables={"accounts"})
    faults.attach(service.aws.client("dynamodb"))
    service.salvage_message(message)
    assert list(pipeline.logged()) == [0]
    container.cold_start()
    service.write_message(message)
    assert pipeline.accounts() == {"acc-1": 1}
    assert pipeline.logged() == {}


def test_a_registered_files_records_refused_only_as_invalid_cost_no_read_of_the_log_when_written(
    pipeline: Pipeline,
) -> None:
    """Only a valid record can be logged and written both: a file whose logged records are all invalid is not
    noted, and the writes of its other records read no LogTable entry (docs/pipeline.md, "Exactly one table")."""
    file_id = registered(pipeline)
    reads: list[str] = []

    def read(params: dict[str, Any], **_: Any) -> None:
        reads.extend(params["RequestItems"])

    service.aws.client("dynamodb").meta.events.register("before-call.dynamodb.BatchGetItem", read)
    service.write_message(file_message([account(1), account(2, status="gone")], file_id=file_id))
    assert pipeline.accounts() == {"acc-1": 1}
    assert list(pipeline.logged()) == [1]
    assert service.files.valid_records_logged(file_id) is False
    assert "log" not in reads


def test_a_dead_letter_is_written_when_dynamodb_takes_it_now_and_its_refusals_logged(
    pipeline: Pipeline, logs: LogLines
) -> None:
    service.salvage_message(file_message([account(1), account(2, balanceCents=1.5)], "m-3", receive_count=3))
    assert pipeline.accounts() == {"acc-1": 1}
    assert list(pipeline.logged()) == [1]
    assert pipeline.entry_at(1)["stage"] == {"S": "error-handler"}
    assert (counted("RecordsSalvaged"), counted("RecordsLogged")) == ([1.0], [1.0])
    [settled] = logs.with_message("dead letter settled")
    assert (settled["messageId"], settled["salvaged"], settled["logged"]) == ("m-3", 1, 1)


def test_a_dead_letter_an_earlier_delivery_wrote_is_not_logged(pipeline: Pipeline) -> None:
    message = file_message([account(1)])
    service.write_message(message)
    Faults(outage=10**6, tables={"accounts"}).attach(service.aws.client("dynamodb"))
    service.salvage_message(message)
    assert pipeline.accounts() == {"acc-1": 1}
    assert pipeline.logged() == {}


def test_an_api_dead_letter_is_salvaged_as_its_body_reads(pipeline: Pipeline) -> None:
    records = [account(1), account(2, id="")]
    service.salvage_message(QueueMessage("m-2", json.dumps(records), "api", 4))
    assert pipeline.accounts() == {"acc-1": 1}
    assert pipeline.sources() == {"api"}
    [(position, reason)] = pipeline.logged().items()
    assert position == array_positions(records)[1]
    assert reason.startswith("id: ")


def refuse_the_first_account(pipeline: Pipeline) -> None:
    """DynamoDB refusing an item for good: BatchWriteItem rejects the whole batch with ValidationException when one
    item cannot be stored, e.g. beyond 400 KB (API_BatchWriteItem, "the entire batch write operation is rejected");
    the repository then writes each alone, and the first is refused again."""
    weather = DynamoDBWeather().script("BatchWriteItem", "ValidationException", times=2)
    weather.attach(service.aws.client("dynamodb"))


def test_a_record_dynamodb_refuses_is_logged_with_why_and_its_neighbours_written(pipeline: Pipeline) -> None:
    refuse_the_first_account(pipeline)
    service.write_message(file_message([account(1), account(2)]))
    assert pipeline.accounts()["acc-2"] == 2
    assert pipeline.logged() == {0: "AccountTable refused the record: ValidationException: injected"}
    assert pipeline.entry_at(0)["stage"] == {"S": "writer"}
    assert json.loads(pipeline.entry_at(0)["record"]["S"])["id"] == "acc-1"
    assert (counted("RecordsWritten"), counted("RecordsRejected")) == ([1.0], [1.0])


def test_a_dead_letter_dynamodb_refuses_is_logged_with_why_and_its_neighbours_salvaged(pipeline: Pipeline) -> None:
    refuse_the_first_account(pipeline)
    service.salvage_message(file_message([account(1), account(2)], receive_count=2))
    assert pipeline.accounts()["acc-2"] == 2
    assert pipeline.logged() == {0: "AccountTable refused the record: ValidationException: injected"}
    assert pipeline.entry_at(0)["stage"] == {"S": "error-handler"}
    assert (counted("RecordsSalvaged"), counted("RecordsLogged")) == ([1.0], [1.0])


def test_staged_parts_s3_will_not_delete_are_left_to_the_lifecycle_with_a_warning(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, logs: LogLines
) -> None:
    """DeleteObjects refused (AccessDenied: a policy the function's role does not pass) must not fail a file that
    has ended: the parts expire by the bucket's lifecycle rule, and the warning says which."""
    configure(monkeypatch, INGEST_CHUNK_BYTES=600)
    upload = pipeline.upload("incoming/big.ndjson.gz", gzip.compress(ndjson([account(n) for n in range(1, 31)])))
    service.ingest_object(**upload)

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "DeleteObjects")

    service.aws.client("s3").meta.events.register("before-call.s3.DeleteObjects", denied)
    ingest_all(pipeline)
    stored = file_of(upload)
    assert stored.status is FileStatus.PROCESSED
    [warning] = logs.with_message("staged parts left to the lifecycle rule")
    assert warning["fileId"] == stored.file_id
    [parts] = warning["parts"]
    assert parts.startswith(f"staging/{stored.file_id}/* (An error occurred (AccessDenied)")


def test_a_dead_letter_found_written_withdraws_the_entry_an_earlier_salvage_left(pipeline: Pipeline) -> None:
    """A record an earlier salvage logged "not written", then written by a delivery that read LogTable before that
    entry existed (so could not withdraw it): salvaged again, it is found in AccountTable and its entry withdrawn,
    so it ends in one table."""
    message = file_message([account(1)], receive_count=2)
    Faults(outage=10**6, tables={"accounts"}).attach(service.aws.client("dynamodb"))
    service.salvage_message(message)
    assert list(pipeline.logged()) == [0]
    [(_, record)] = message.decode()[1]
    AccountRepository(pipeline.dynamodb, "accounts").save_all([Account.model_validate(record)], source="file")

    service.salvage_message(message)
    assert pipeline.accounts() == {"acc-1": 1}
    assert pipeline.logged() == {}


def test_a_whole_file_beyond_the_byte_limit_is_failed_for_that_reason(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, INGEST_MAX_BYTES=1000)
    upload = pipeline.upload("incoming/long.ndjson", ndjson([account(n) for n in range(10)]))
    ingestion = service.ingest_object(**upload)
    assert isinstance(ingestion, Ingestion)
    assert ingestion.records_read < 10
    stored = file_of(upload)
    assert stored.status is FileStatus.FAILED
    assert stored.reason is not None
    assert stored.reason.startswith("the file holds more than 1,000 bytes once decompressed (INGEST_MAX_BYTES)")


def test_a_record_that_is_not_json_is_logged_with_its_bytes(pipeline: Pipeline) -> None:
    upload = pipeline.upload("incoming/a.ndjson", ndjson([account(1)]) + b'{"id": oops}\n')
    assert service.ingest_object(**upload) == Ingestion(2, 1, 1)
    assert pipeline.entry_at(len(ndjson([account(1)])))["record"] == {"S": '{"id": oops}'}
