"""The pipeline's handlers fed with the sample events in events/ (what `sam local invoke -e` sends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dropshop.files import service as files
from dropshop.ingestion.chunks import Chunk
from tests.integration.pipeline.conftest import scan
from tests.support.events import EVENTS, load_event
from tools.local.stack import Stack
from tools.local.wiring import Wiring


def put_sample_object(stack: Stack, event: dict[str, Any], function_dir: str) -> None:
    """The object an S3 sample event announces, from events/<function>/files/, in the bucket it names (EventBridge
    carries the key as stored: not URL-encoded)."""
    bucket, key = event["detail"]["bucket"]["name"], event["detail"]["object"]["key"]
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": stack.region})
    s3.put_object(Bucket=bucket, Key=key, Body=(EVENTS / function_dir / "files" / Path(key).name).read_bytes())


@pytest.mark.parametrize(("event_name", "records"), [("csv-uploaded", 3), ("json-uploaded", 3)])
def test_registry_sample_events(stack: Stack, wiring: Wiring, event_name: str, records: int) -> None:
    event = load_event(f"registry/{event_name}")
    put_sample_object(stack, event, "registry")
    result = wiring.invoke("RegistryFunction", event)
    (file,) = scan(stack, "FilesTable")
    assert result == {"fileId": file["fileId"]["S"], "status": "RECEIVED"}
    assert int(file["recordCount"]["N"]) == records


@pytest.mark.parametrize("event_name", ["json-uploaded", "ndjson-uploaded"])
def test_transformer_sample_events(stack: Stack, wiring: Wiring, event_name: str) -> None:
    event = load_event(f"transformer/{event_name}")
    put_sample_object(stack, event, "transformer")
    result = wiring.invoke("TransformerFunction", event)
    assert result["ingestion"] == {"recordsRead": 5, "accepted": 4, "rejected": 1}
    wiring.drain()
    assert {i["accountId"]["S"] for i in scan(stack, "AccountTable")} == {
        "acc-1001",
        "acc-1002",
        "acc-1003",
        "acc-1005",
    }
    assert len(scan(stack, "LogTable")) == 1


def test_writer_sample_batch(stack: Stack, wiring: Wiring) -> None:
    assert wiring.invoke("WriterFunction", load_event("writer/batch")) == {"batchItemFailures": []}
    assert {i["accountId"]["S"] for i in scan(stack, "AccountTable")} == {"acc-1001", "acc-1002", "acc-2001"}
    invalid, not_json = sorted(e["reason"]["S"] for e in scan(stack, "LogTable"))
    assert not_json.startswith("the record is not JSON")
    for field in ("name", "email", "status", "balanceCents", "updatedAt"):
        assert f"{field}: " in invalid, f"the reason should name {field}: {invalid}"


def test_error_handler_sample_dead_letters(stack: Stack, wiring: Wiring) -> None:
    assert wiring.invoke("ErrorHandlerFunction", load_event("error_handler/dead-letters")) == {"batchItemFailures": []}
    assert {i["accountId"]["S"] for i in scan(stack, "AccountTable")} == {"acc-1001", "acc-1002"}
    (entry,) = scan(stack, "LogTable")
    assert entry["stage"]["S"] == "error-handler"
    assert "email" in entry["reason"]["S"]


def test_transformer_chunk_sample_event(stack: Stack, wiring: Wiring) -> None:
    """The sample is the second half of the transformer's sample NDJSON file, split into two chunks."""
    event = load_event("transformer_chunk/chunk")
    chunk = Chunk.from_json(event["Records"][0]["body"])
    announced = load_event("transformer/ndjson-uploaded")
    put_sample_object(stack, announced, "transformer")
    file_id = files.start_ingestion(
        bucket=chunk.bucket,
        key=chunk.key,
        etag=chunk.etag,
        size=chunk.end,
        uploaded_at="2026-11-24T12:00:00Z",
        version_id=None,
        invocation="the Transformer's run",
    )
    assert file_id == chunk.file_id
    files.plan_chunks(file_id, 2)

    assert wiring.invoke("TransformerChunkFunction", event) == {"batchItemFailures": []}
    wiring.drain()
    assert {i["accountId"]["S"] for i in scan(stack, "AccountTable")} == {"acc-1003", "acc-1005"}
    (refused,) = scan(stack, "LogTable")
    assert "not JSON" in refused["reason"]["S"]
    file = files.get_file(file_id)
    assert file.chunks is not None
    assert (file.chunks.done, file.chunks.total) == (1, 2)
    assert file.ingestion is not None
    assert file.ingestion.records_read == 3
    assert file.status.value == "PROCESSING", "the first half is not counted yet"
