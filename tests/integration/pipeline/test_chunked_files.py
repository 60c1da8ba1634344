"""A big NDJSON file in chunks, through the template's wiring on moto: each chunk ingested by its own
invocation, in any order and however often delivered, counted once in FilesTable, and the file's final status
set only when its last chunk ends; a chunk that keeps failing is dead-lettered alone, and redriven it ends the
file. Chunk sizes are tiny here, so that every record meets a boundary."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dropshop.files import service as files
from dropshop.ingestion.chunks import Chunk
from dropshop.platform import aws, settings
from dropshop.platform.dynamodb import CONFLICT_ATTEMPTS, MAX_ATTEMPTS
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.settled import (
    file_entry,
    file_origin,
    log_entries,
    ndjson,
    refusals,
    stored,
    version,
)
from tests.support.faults import THROTTLING_ERROR, DynamoDBWeather, Faults, UnlistableBucket
from tools.local.lambda_context import LambdaContext
from tools.local.stack import Stack
from tools.local.wiring import Wiring

VALID: dict[str, Any] = {
    "id": "acc-1",
    "name": "Ada",
    "email": "ada@example.com",
    "status": "active",
    "balanceCents": 100,
    "updatedAt": "2026-11-24T12:00:00Z",
}
RECORDS = [VALID | {"id": f"acc-{n}"} for n in range(6)]
INVALID = VALID | {"email": "nope"}


@pytest.fixture
def chunking(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INGEST_CHUNK_BYTES", "40")
    monkeypatch.setenv("INGEST_CHUNK_RECORDS", "100")
    settings.settings.cache_clear()
    yield
    settings.settings.cache_clear()


def upload_without_chunks_running(stack: Stack, wiring: Wiring, key: str, data: bytes) -> list[str]:
    """Upload (the Transformer splits the file); the chunk messages it sent, taken off ChunkQueue unrun."""
    wiring.upload(key, data)
    return take_chunks(stack)


def take_chunks(stack: Stack) -> list[str]:
    """The chunk messages waiting in ChunkQueue, taken off it unrun."""
    sqs, queue = stack.client("sqs"), stack.physical["ChunkQueue"]
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def run_chunk(stack: Stack, wiring: Wiring, body: str) -> None:
    stack.client("sqs").send_message(QueueUrl=stack.physical["ChunkQueue"], MessageBody=body)
    (mapping,) = [m for m in wiring.queue_mappings() if m.function == "TransformerChunkFunction"]
    assert wiring.poll(mapping) == 1


def progress(stack: Stack, key: str) -> tuple[str, int, int, int]:
    file = file_entry(stack, key)
    return (
        file["status"]["S"],
        int(file["chunksDone"]["N"]),
        int(file["chunksTotal"]["N"]),
        int(file["recordsRead"]["N"]),
    )


def test_chunks_out_of_order_and_redelivered_count_once_and_the_last_one_ends_the_file(
    stack: Stack, wiring: Wiring, chunking: None
) -> None:
    data = ndjson(*RECORDS[:3], INVALID, *RECORDS[3:])
    key = "incoming/big.ndjson"
    chunks = upload_without_chunks_running(stack, wiring, key, data)
    assert len(chunks) == -(-len(data) // 40) > 3
    assert progress(stack, key) == ("PROCESSING", 0, len(chunks), 0)

    for done, body in enumerate(reversed(chunks), start=1):  # the last chunk first
        run_chunk(stack, wiring, body)
        status, counted, total, _ = progress(stack, key)
        assert (counted, total) == (done, len(chunks))
        assert status == ("PROCESSED" if done == len(chunks) else "PROCESSING"), "final only after the last"
        if done == 2:
            run_chunk(stack, wiring, body)  # redelivered: ingested again, counted once
            assert progress(stack, key)[1] == done
    wiring.drain()

    file = file_entry(stack, key)
    assert (file["recordsRead"]["N"], file["recordsAccepted"]["N"], file["recordsRejected"]["N"]) == ("7", "6", "1")
    assert stored(stack) == {version(r) for r in RECORDS}
    offset = len(ndjson(*RECORDS[:3]))  # a chunked file's position: the byte offset of the record's first byte
    assert set(refusals(stack)) == {(file_origin(stack, key), offset)}
    assert file["recordCount"]["N"] == "7"


def test_a_chunk_that_hands_its_rest_on_and_fails_to_count_does_not_let_the_file_end_without_it(
    stack: Stack, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk A stops at its record budget and hands the rest of its range on; its count is what adds that rest
    to the total. A's count is refused (DynamoDB cancels a transaction for throttling, TransactWriteItems,
    "Cancellation reason codes": https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html)
    until A's invocation gives up: whatever else runs meanwhile, the file must not end without A's records."""
    monkeypatch.setenv("INGEST_CHUNK_BYTES", "400")
    monkeypatch.setenv("INGEST_CHUNK_RECORDS", "2")
    settings.settings.cache_clear()
    key = "incoming/handed-on.ndjson"
    first, *others = upload_without_chunks_running(stack, wiring, key, ndjson(*RECORDS))
    assert others, "the file is split in more than one chunk"

    weather = DynamoDBWeather().script("TransactWriteItems", THROTTLING_ERROR, CONFLICT_ATTEMPTS, table="Files")
    weather.attach(aws.client("dynamodb"))
    run_chunk(stack, wiring, first)  # reads two records, then its count is refused to the end
    weather.detach(aws.client("dynamodb"))
    assert weather.injected == {f"TransactWriteItems {THROTTLING_ERROR}": CONFLICT_ATTEMPTS}

    for body in [b for b in others + take_chunks(stack) if b != first]:  # the others, and any rest handed on
        run_chunk(stack, wiring, body)
    wiring.drain()
    assert progress(stack, key)[0] == "PROCESSING", "the first chunk was never counted"

    run_chunk(stack, wiring, first)  # its redelivery
    wiring.drain()
    status, done, total, read = progress(stack, key)
    assert (status, read) == ("PROCESSED", len(RECORDS))
    assert done == total == len(others) + 1 + 2, "two rests handed on (records 3-4, then 5-6)"
    assert stored(stack) == {version(r) for r in RECORDS}


def test_a_split_that_dynamodb_refuses_is_not_reported_as_an_unreadable_object(
    stack: Stack, wiring: Wiring, chunking: None
) -> None:
    """Storing the plan is throttled beyond botocore's retries (ProvisionedThroughputExceededException, "Error
    handling with DynamoDB": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html):
    botocore raises the same ClientError class for every service, but the object was read, and the file must not
    be FAILED as unreadable (a replay could ingest it)."""

    def throttled(params: dict[str, Any], **_: Any) -> None:
        if "chunksTotal = if_not_exists" in params.get("UpdateExpression", ""):
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}
            raise ClientError({"Error": error}, "UpdateItem")

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.UpdateItem", throttled)
    key = "incoming/unplanned.ndjson"
    wiring.upload(key, ndjson(*RECORDS))
    wiring.drain()

    file = file_entry(stack, key)
    assert (file["status"]["S"], file.get("reason")) == ("PROCESSING", None), "held for a retry, not failed"
    assert wiring.depth("ChunkQueue") == 0


def test_a_file_whose_chunks_could_not_be_sent_is_split_again_by_a_replay_once_its_lease_runs_out(
    stack: Stack, wiring: Wiring, chunking: None
) -> None:
    """ChunkQueue refuses every send of the Transformer's invocation and its two retries (SendMessageBatch
    throttled beyond botocore's retries); the event goes to PipelineEventsDLQ. The file must not look handed
    to chunks that were never sent: a replay (another request id) waits for the lease, then splits it again."""
    sending = Faults(outage=3 * MAX_ATTEMPTS)  # QueueSender's attempts, in each of the three invocations
    sending.attach(aws.client("sqs"))
    key = "incoming/unsent.ndjson"
    wiring.upload(key, ndjson(*RECORDS))
    assert sending.outage == 0
    assert wiring.depth("ChunkQueue") == 0
    sqs, dead_letters = stack.client("sqs"), stack.physical["PipelineEventsDLQ"]
    (dead,) = sqs.receive_message(QueueUrl=dead_letters, MessageAttributeNames=["All"])["Messages"]
    assert dead["MessageAttributes"]["ErrorMessage"]["StringValue"].endswith(
        f"could not be sent to {stack.physical['ChunkQueue'].rsplit('/', 1)[-1]}"
    ), "the error names the queue that refused"
    replay = json.loads(dead["Body"])

    with pytest.raises(files.FileBusy):  # the dead invocation's lease still holds
        wiring.invoke("TransformerFunction", replay)
    stack.client("dynamodb").update_item(  # 16 minutes later: the lease has run out
        TableName=stack.physical["FilesTable"],
        Key={"fileId": file_entry(stack, key)["fileId"]},
        UpdateExpression="SET leaseUntil = :past",
        ExpressionAttributeValues={":past": {"S": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}},
    )
    assert wiring.invoke("TransformerFunction", replay)["ingestion"] == {"chunks": -(-len(ndjson(*RECORDS)) // 40)}
    wiring.drain()

    status, done, total, read = progress(stack, key)
    assert (status, done, read) == ("PROCESSED", total, len(RECORDS))
    assert stored(stack) == {version(r) for r in RECORDS}


def test_another_event_for_a_file_handed_to_chunks_finds_it_ingested_not_busy(
    stack: Stack, wiring: Wiring, chunking: None
) -> None:
    """A duplicate S3 event from another invocation while the chunks run: nothing to do, not FileBusy (which
    Lambda would retry into PipelineEventsDLQ and its alarm while the chunks take their time)."""
    key = "incoming/duplicate.ndjson"
    chunks = upload_without_chunks_running(stack, wiring, key, ndjson(*RECORDS))
    event = wiring.object_created_event(stack.physical["DataBucket"], key)
    another = LambdaContext(function_name="TransformerFunction", aws_request_id="another-invocation")

    answer = wiring._handler("TransformerFunction").lambda_handler(event, another)

    assert answer["ingestion"] == "already ingested"
    for body in chunks:
        run_chunk(stack, wiring, body)
    assert progress(stack, key) == ("PROCESSED", len(chunks), len(chunks), len(RECORDS))


def test_a_chunk_of_many_tiny_invalid_records_hands_its_rest_on_instead_of_running_out_of_time(
    stack: Stack, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_CHUNK_BYTES", "60")
    monkeypatch.setenv("INGEST_CHUNK_RECORDS", "3")  # records one invocation may read
    settings.settings.cache_clear()
    data = ndjson(VALID) + b"1\n" * 40 + ndjson(RECORDS[1])
    key = "incoming/tiny-invalid.ndjson"
    wiring.upload(key, data)
    wiring.drain()

    status, done, total, read = progress(stack, key)
    assert (status, read) == ("PROCESSED", 42)
    assert done == total > -(-len(data) // 60), "chunks handed on joined the total"
    assert wiring.invocations["TransformerChunkFunction"] >= 42 / 3
    logged = refusals(stack)
    first = len(ndjson(VALID))
    assert set(logged) == {(file_origin(stack, key), first + 2 * n) for n in range(40)}
    assert stored(stack) == {version(VALID), version(RECORDS[1])}


def test_a_chunk_that_keeps_failing_is_dead_lettered_alone_and_redriven_it_ends_the_file(
    stack: Stack, wiring: Wiring, chunking: None
) -> None:
    data = ndjson(*RECORDS)
    key = "incoming/outage.ndjson"
    owner = len(ndjson(RECORDS[0])) // 40 * 40  # the chunk in which the second record's line starts
    failing_range = f"bytes={owner - 1}-"  # its ranged read (from the byte before it)
    outage = {"on": True}

    def unavailable(params: dict[str, Any], **_: Any) -> None:
        if outage["on"] and params.get("Range") == failing_range:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "GetObject")

    aws.client("s3").meta.events.register("provide-client-params.s3.GetObject", unavailable)
    wiring.upload(key, data)
    wiring.drain()

    status, done, total, _ = progress(stack, key)
    assert (status, done) == ("PROCESSING", total - 1), "the other chunks went on; the file is not final"
    assert wiring.depth("ChunkDLQ") == 1
    assert stored(stack) == {version(r) for r in RECORDS} - {version(RECORDS[1])}

    outage["on"] = False  # mended: redrive the dead letter (what an operator does after the alarm)
    sqs = stack.client("sqs")
    (dead,) = sqs.receive_message(QueueUrl=stack.physical["ChunkDLQ"])["Messages"]
    sqs.send_message(QueueUrl=stack.physical["ChunkQueue"], MessageBody=dead["Body"])
    sqs.delete_message(QueueUrl=stack.physical["ChunkDLQ"], ReceiptHandle=dead["ReceiptHandle"])
    wiring.drain()

    assert progress(stack, key) == ("PROCESSED", total, total, len(RECORDS))
    assert stored(stack) == {version(r) for r in RECORDS}


def test_chunks_of_an_upload_replaced_meanwhile_fail_its_file_instead_of_being_retried_forever(
    stack: Stack, wiring: Wiring, chunking: None
) -> None:
    key = "incoming/replaced.ndjson"
    chunks = upload_without_chunks_running(stack, wiring, key, ndjson(*RECORDS))
    stack.client("s3").put_object(Bucket=stack.physical["DataBucket"], Key=key, Body=b"{}\n")  # another upload
    for body in chunks:
        run_chunk(stack, wiring, body)

    file = file_entry(stack, key)  # the first upload's: the second was never announced
    assert file["status"]["S"] == "FAILED"
    assert "object could not be read" in file["reason"]["S"]
    assert wiring.depth("ChunkQueue") == wiring.depth("ChunkDLQ") == 0


def gzip_parts(stack: Stack) -> list[str]:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.physical["DataBucket"], Prefix="staging/")
    return [o["Key"] for o in listed.get("Contents", [])]


def invalid_offset(data: bytes) -> int:
    """The byte offset of the one invalid record (its opening brace) in `data`."""
    return data.rindex(b"{", 0, data.index(b'"nope"'))


ARRAY = json.dumps([*RECORDS[:3], INVALID, *RECORDS[3:]], indent=1).encode()
LINES = ndjson(*RECORDS[:3], INVALID, *RECORDS[3:])
# Cut mid-stream: what GzipFile decompressed before the cut, in whole 64 KiB reads (so a shorter stream yields
# nothing), is read, whole or in chunks.
_NOISY = ndjson(*(VALID | {"id": f"acc-{n}", "name": hashlib.sha256(str(n).encode()).hexdigest()} for n in range(600)))
TRUNCATED_GZIP = gzip.compress(_NOISY)[: len(gzip.compress(_NOISY)) * 2 // 3]


@pytest.mark.parametrize(
    ("key", "data", "decompressed"),
    [
        ("incoming/big.json", ARRAY, ARRAY),
        ("incoming/big.ndjson.gz", gzip.compress(LINES), LINES),
        ("incoming/big.json.gz", gzip.compress(ARRAY), ARRAY),
    ],
    ids=["json-array", "gzip-ndjson", "gzip-json-array"],
)
def test_json_arrays_and_gzip_files_are_read_in_chunks_out_of_order_and_redelivered(
    stack: Stack, wiring: Wiring, chunking: None, key: str, data: bytes, decompressed: bytes
) -> None:
    """A JSON array is cut after top-level commas, a gzip file decompressed once into staged parts: either way
    each chunk is ingested on its own, counted once, and positions are byte offsets (into the decompressed
    bytes for gzip) that no chunk size changes."""
    chunks = upload_without_chunks_running(stack, wiring, key, data)
    assert len(chunks) > 3
    assert progress(stack, key) == ("PROCESSING", 0, len(chunks), 0)
    assert bool(gzip_parts(stack)) == key.endswith(".gz"), "only gzip is staged"

    for done, body in enumerate(reversed(chunks), start=1):
        run_chunk(stack, wiring, body)
        if done == 2:
            run_chunk(stack, wiring, body)  # redelivered: counted once
        assert progress(stack, key)[:3] == ("PROCESSED" if done == len(chunks) else "PROCESSING", done, len(chunks))
    wiring.drain()

    file = file_entry(stack, key)
    assert (file["recordsRead"]["N"], file["recordsAccepted"]["N"], file["recordsRejected"]["N"]) == ("7", "6", "1")
    assert stored(stack) == {version(r) for r in RECORDS}
    assert set(refusals(stack)) == {(file_origin(stack, key), invalid_offset(decompressed))}
    registered = {f["key"]["S"] for f in scan(stack, "FilesTable") if "key" in f}
    assert registered == {key}, "the staged parts are no uploads: the registry leaves them alone"

    assert gzip_parts(stack) == [], "the chunk that ended the file deleted its decompressed parts"
    run_chunk(stack, wiring, chunks[0])  # a copy delivered again after that: counted before, no break logged
    wiring.drain()
    assert file_entry(stack, key)["status"]["S"] == "PROCESSED"
    assert len(log_entries(stack)) == 1


@pytest.mark.parametrize(
    ("key", "data", "reason"),
    [
        ("incoming/cut.ndjson.gz", TRUNCATED_GZIP, "the gzip-compressed file is corrupt or truncated"),
        ("incoming/cut.json.gz", gzip.compress(ARRAY[:-40]), "the JSON array breaks off"),
        ("incoming/cut.json", ARRAY[:-40], "the JSON array breaks off"),
        ("incoming/after.json", ARRAY + b" [1]", "unexpected data after the JSON array's closing ']'"),
    ],
    ids=["gzip-truncated", "gzip-array-broken-off", "array-broken-off", "array-with-data-after-it"],
)
def test_a_file_that_breaks_off_in_chunks_keeps_its_records_before_the_break_and_fails_once(
    stack: Stack, wiring: Wiring, chunking: None, monkeypatch: pytest.MonkeyPatch, key: str, data: bytes, reason: str
) -> None:
    if data is TRUNCATED_GZIP:
        monkeypatch.setenv("INGEST_CHUNK_BYTES", "4096")
        settings.settings.cache_clear()
    wiring.upload(key, data)
    wiring.drain()

    file = file_entry(stack, key)
    assert file["status"]["S"] == "FAILED"
    assert reason in file["reason"]["S"]
    assert int(file["chunksDone"]["N"]) == int(file["chunksTotal"]["N"]) > 1
    breaks = [item for item in log_entries(stack) if item["reason"]["S"].startswith("file: ")]
    assert len(breaks) == 1, "the break is logged once"
    read, accepted, rejected = (int(file[f]["N"]) for f in ("recordsRead", "recordsAccepted", "recordsRejected"))
    assert read == accepted + rejected == len(stored(stack)) + rejected > 0, "the records before the break"
    assert len(log_entries(stack)) == rejected + 1


def test_beyond_the_split_limit_an_array_is_failed_at_once_with_the_reason(
    stack: Stack, wiring: Wiring, chunking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """INGEST_SPLIT_MAX_BYTES: what one invocation may scan for an array's boundaries; its size is known."""
    monkeypatch.setenv("INGEST_SPLIT_MAX_BYTES", str(len(ARRAY) - 1))
    settings.settings.cache_clear()
    wiring.upload("incoming/huge.json", ARRAY)
    wiring.drain()

    file = file_entry(stack, "incoming/huge.json")
    assert (file["status"]["S"], file["recordsRead"]["N"]) == ("FAILED", "0")
    assert "INGEST_SPLIT_MAX_BYTES" in file["reason"]["S"]
    assert [item["position"]["N"] for item in log_entries(stack)] == ["0"]
    assert "TransformerChunkFunction" not in wiring.invocations


def test_beyond_the_split_limit_a_gzip_file_keeps_its_records_before_and_is_failed_with_the_reason(
    stack: Stack, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip file is decompressed (in 64 KiB reads) until INGEST_SPLIT_MAX_BYTES: the records whole before the
    read that passes it are ingested, then the file is FAILED, the break logged once."""
    monkeypatch.setenv("INGEST_CHUNK_BYTES", "8192")
    monkeypatch.setenv("INGEST_SPLIT_MAX_BYTES", "100000")
    settings.settings.cache_clear()
    key = "incoming/huge.ndjson.gz"
    wiring.upload(key, gzip.compress(_NOISY))
    wiring.drain()

    file = file_entry(stack, key)
    assert file["status"]["S"] == "FAILED"
    assert "INGEST_SPLIT_MAX_BYTES" in file["reason"]["S"]
    whole_lines = _NOISY[: 64 * 1024].count(b"\n")
    assert int(file["recordsRead"]["N"]) == int(file["recordsAccepted"]["N"]) == whole_lines == len(stored(stack))
    breaks = [item for item in log_entries(stack) if item["reason"]["S"].startswith("file: ")]
    assert [int(item["position"]["N"]) for item in breaks] == [_NOISY[: 64 * 1024].rindex(b"\n") + 1]


_NOISY_ARRAY = b"[" + _NOISY.rstrip(b"\n").replace(b"\n", b",\n") + b"]"
_SMALL_NOISY_ARRAY = _NOISY_ARRAY[: _NOISY_ARRAY.index(b"\n", 20_000)].rstrip(b",") + b"]"  # one 64 KiB read


@pytest.mark.parametrize(
    ("data", "limit"),
    [(_SMALL_NOISY_ARRAY, 1000), (_NOISY_ARRAY, 100_000)],
    ids=["all-in-the-read-that-crosses-it", "crossed-on-a-later-read"],
)
def test_beyond_the_split_limit_a_gzip_json_array_is_failed_with_the_reason_not_left_processing(
    stack: Stack, wiring: Wiring, monkeypatch: pytest.MonkeyPatch, data: bytes, limit: int
) -> None:
    """The limit is the file's failure, not a broken array's end: crossed by the read that holds the whole file,
    it left a plan of no chunks (the file PROCESSING for good), crossed later a failure for the wrong reason."""
    monkeypatch.setenv("INGEST_CHUNK_BYTES", "8192")
    monkeypatch.setenv("INGEST_SPLIT_MAX_BYTES", str(limit))
    settings.settings.cache_clear()
    key = "incoming/huge.json.gz"
    wiring.upload(key, gzip.compress(data))
    wiring.drain()

    file = file_entry(stack, key)
    assert file["status"]["S"] == "FAILED"
    assert "INGEST_SPLIT_MAX_BYTES" in file["reason"]["S"]
    assert int(file["chunksDone"]["N"]) == int(file["chunksTotal"]["N"]) >= 1
    breaks = [item for item in log_entries(stack) if item["reason"]["S"].startswith("file: ")]
    assert len(breaks) == 1, "the break is logged once"
    read, accepted = int(file["recordsRead"]["N"]), int(file["recordsAccepted"]["N"])
    assert read == accepted == len(stored(stack)), "the records whole before the limit, in the accounts table"
    assert gzip_parts(stack) == [], "whoever ended the file (the plan, or the last chunk) deleted its parts"


@pytest.mark.parametrize("gone_as", ["NoSuchKey", "AccessDenied"])
@pytest.mark.parametrize("part", ["its-first-part", "a-later-part"])
def test_a_staged_part_gone_fails_its_file_with_the_reason_after_the_records_before_it(
    stack: Stack, wiring: Wiring, chunking: None, gone_as: str, part: str
) -> None:
    """A part expired or deleted before a chunk reads it: S3 answers NoSuchKey (moto, or AWS to a caller allowed
    s3:ListBucket) or AccessDenied (AWS otherwise: no function may list the bucket). Whether it is the first part
    the chunk opens or one it reaches mid-chunk, the chunk logs the break once, is counted, and the file ends
    FAILED with the reason: never a chunk retried into ChunkDLQ, never a file left PROCESSING."""
    key = "incoming/gone.ndjson.gz"
    bodies = upload_without_chunks_running(stack, wiring, key, gzip.compress(LINES))
    chunk = Chunk.from_json(bodies[1])
    assert chunk.staged is not None
    first = max(chunk.start - 1, 0) // chunk.staged.part_bytes
    gone = chunk.staged.part_key(first if part == "its-first-part" else first + 1)
    assert gone in gzip_parts(stack)
    stack.client("s3").delete_object(Bucket=stack.physical["DataBucket"], Key=gone)
    denied = UnlistableBucket({gone}).attach(aws.client("s3")) if gone_as == "AccessDenied" else None
    try:
        for body in bodies:
            run_chunk(stack, wiring, body)
        wiring.drain()
    finally:
        if denied:
            denied.detach(aws.client("s3"))

    file = file_entry(stack, key)
    assert file["status"]["S"] == "FAILED"
    assert f"the staged part {gone} of the decompressed file is gone" in file["reason"]["S"]
    assert gone_as in file["reason"]["S"]
    assert int(file["chunksDone"]["N"]) == int(file["chunksTotal"]["N"]) == len(bodies)
    assert wiring.depth("ChunkQueue") == wiring.depth("ChunkDLQ") == 0
    breaks = [item for item in log_entries(stack) if item["reason"]["S"].startswith("file: ")]
    assert breaks, "each chunk that needed the part logs where it stopped (parts and chunks are 40 bytes here)"
    assert all("is gone" in item["reason"]["S"] for item in breaks)
    read, accepted, rejected = (int(file[f]["N"]) for f in ("recordsRead", "recordsAccepted", "recordsRejected"))
    assert read == accepted + rejected == len(stored(stack)) + rejected
    assert len(log_entries(stack)) == rejected + len(breaks), "each break its own entry, none overwritten"
