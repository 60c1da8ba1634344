"""Failed records are counted per function version, the metric a canary's FailedRecords alarm reads; the
deployment hook's smoke records are acknowledged without reaching the handler."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from dropshop.operations.canary import smoke_event
from dropshop.platform.batch import SQSRecord, process_sqs_batch
from tools.local.lambda_context import LambdaContext


def _message(body: str) -> dict[str, Any]:
    return {"messageId": str(uuid.uuid4()), "body": body, "eventSource": "aws:sqs", "attributes": {}}


def _failed_records_metrics(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "FailedRecords" in line]


def _fail_on_bad(record: SQSRecord) -> None:
    if record.body == "bad":
        raise ValueError("bad record")


@pytest.mark.parametrize("failing", [1, 3])
def test_failed_records_are_counted_under_the_function_and_version_that_failed_them(
    failing: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "writer")
    event = {"Records": [_message("bad") for _ in range(failing)] + [_message("good")]}
    context = LambdaContext(function_name="dropshop-prod-WriterFunction-X", function_version="42")

    response = process_sqs_batch(event, context, _fail_on_bad)

    assert len(response["batchItemFailures"]) == failing
    (metric,) = _failed_records_metrics(capsys.readouterr().out)
    assert metric["FailedRecords"] == [float(failing)]
    assert (metric["FunctionName"], metric["FunctionVersion"], metric["service"]) == (
        "dropshop-prod-WriterFunction-X",
        "42",
        "writer",
    )
    (declared,) = metric["_aws"]["CloudWatchMetrics"]
    # The template's FailedRecords alarms name exactly this dimension set.
    assert declared["Dimensions"] == [["FunctionName", "FunctionVersion", "service"]]
    assert declared["Namespace"] == "DropShop"


def test_a_batch_without_failures_emits_no_failure_metric(capsys: pytest.CaptureFixture[str]) -> None:
    process_sqs_batch({"Records": [_message("good")]}, LambdaContext(), _fail_on_bad)
    assert _failed_records_metrics(capsys.readouterr().out) == []


def test_a_smoke_record_is_acknowledged_without_reaching_the_handler() -> None:
    handled: list[SQSRecord] = []
    response = process_sqs_batch(smoke_event("sqs"), LambdaContext(), handled.append)
    assert response == {"batchItemFailures": []}
    assert handled == []


def test_a_queue_message_cannot_pass_for_a_smoke_record() -> None:
    handled: list[SQSRecord] = []
    event = smoke_event("sqs")
    event["Records"][0]["eventSource"] = "aws:sqs"  # what Lambda's SQS mapping always sets
    process_sqs_batch(event, LambdaContext(), handled.append)
    assert len(handled) == 1
