"""The pipeline's handlers fed with the sample events in events/ (what `sam local invoke -e` sends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
