"""A Transformer run that dies mid-file never leaves its file PROCESSING for good.

Lambda retries a failed asynchronous invocation twice, 1 and then 2 minutes later, under the same request id,
and only once the attempt before has failed or timed out; then the event goes to the dead-letter queue
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html; "duplicate invocations ...
with the same request ID indicate that the Lambda service retried the function",
https://repost.aws/knowledge-center/lambda-function-duplicate-invocations). A crash (a timeout, running out of
memory) happens after side effects: messages sent, refusals logged, the claim left behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from dropshop.files import service as files
from dropshop.ingestion import messages
from dropshop.platform import aws
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.object_events import put
from tests.integration.pipeline.records import json_array, samples
from tests.integration.pipeline.settled import file_origin, refusals, stored
from tests.template.conftest import load_template
from tests.template.test_least_privilege import effective
from tools.local.lambda_context import LambdaContext
from tools.local.stack import Stack
from tools.local.wiring import Wiring

KEY = "incoming/crashing.json"
RECORDS = samples(60, invalid_share=0.2, accounts=60, seed=21)


class Killed(BaseException):
    """The runtime stopped mid-call, as a timeout or running out of memory stops it: no handler runs."""


def calls_to_dynamodb() -> set[str]:
    """The DynamoDB actions the function calls from now on (moto checks no IAM: the template's grants are
    compared below)."""
    actions: set[str] = set()
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: actions.add(f"dynamodb:{model.name}")
    )
    return actions


def crash_on_second_send(stack: Stack) -> None:
    sends = iter(range(10**6))

    def maybe_die(**_: Any) -> None:
        if next(sends) == 1:  # the first batch of messages is already in WriterQueue
            raise Killed

    aws.client("sqs").meta.events.register("before-call.sqs.SendMessageBatch", maybe_die)


@pytest.fixture
def transformer(wiring: Wiring, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setattr(messages, "MESSAGE_LIMIT_BYTES", 1024)  # several batches of messages for one file
    return wiring._handler("TransformerFunction")


def run(transformer: ModuleType, event: dict[str, Any], request_id: str) -> Any:
    return transformer.lambda_handler(
        event, LambdaContext(function_name="TransformerFunction", aws_request_id=request_id)
    )


def file_item(stack: Stack) -> dict[str, Any]:
    (item,) = [f for f in scan(stack, "FilesTable") if f["key"]["S"] == KEY]
    return item


def assert_settled_once(stack: Stack, wiring: Wiring) -> None:
    wiring.drain()
    assert stored(stack) == {s.key for s in RECORDS if s.valid}
    logged = refusals(stack)  # asserts that none is logged twice
    assert len(logged) == sum(1 for s in RECORDS if not s.valid)
    assert {origin for origin, _ in logged} == {file_origin(stack, KEY)}


def test_lambdas_retry_of_a_crashed_run_takes_its_file_over(
    stack: Stack, wiring: Wiring, transformer: ModuleType
) -> None:
    event = put(stack, KEY, json_array(RECORDS))
    crash_on_second_send(stack)
    with pytest.raises(Killed):
        run(transformer, event, "request-1")
    assert file_item(stack)["status"]["S"] == "PROCESSING"
    assert wiring.depth("WriterQueue") > 0, "the crash came after side effects"

    aws.client.cache_clear()  # the retry runs in a fresh container
    result = run(transformer, event, "request-1")  # Lambda's retry: the same request id, a minute later

    assert result["ingestion"] == {
        "recordsRead": 60,
        "accepted": sum(s.valid for s in RECORDS),
        "rejected": sum(not s.valid for s in RECORDS),
    }
    item = file_item(stack)
    assert (item["status"]["S"], int(item["attempts"]["N"])) == ("PROCESSED", 2)
    assert_settled_once(stack, wiring)


def test_another_invocation_never_ends_quietly_while_a_claim_holds_and_takes_over_once_it_runs_out(
    stack: Stack, wiring: Wiring, transformer: ModuleType
) -> None:
    """A duplicate event, or a replay from PipelineEventsDLQ, is another invocation: it cannot know whether the
    holder still runs. It fails, so Lambda retries it and then dead-letters it (alarmed): never 'done' while the
    file is not."""
    event = put(stack, KEY, json_array(RECORDS))
    crash_on_second_send(stack)
    with pytest.raises(Killed):
        run(transformer, event, "request-1")
    aws.client.cache_clear()
    called = calls_to_dynamodb()

    with pytest.raises(files.FileBusy):
        run(transformer, event, "request-2")
    assert file_item(stack)["status"]["S"] == "PROCESSING"

    stack.client("dynamodb").update_item(  # 16 minutes later: the dead run's lease has run out
        TableName=stack.physical["FilesTable"],
        Key={"fileId": file_item(stack)["fileId"]},
        UpdateExpression="SET leaseUntil = :past",
        ExpressionAttributeValues={":past": {"S": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}},
    )
    run(transformer, event, "request-2")
    assert file_item(stack)["status"]["S"] == "PROCESSED"
    assert run(transformer, event, "request-3")["ingestion"] == "already ingested"
    granted = {action for action, _ in effective("TransformerFunction")}
    assert called <= granted, f"the Transformer's role does not grant {called - granted}"
    assert_settled_once(stack, wiring)  # the Writer's calls, from here on, are the Writer's role's business


def test_a_live_run_is_never_taken_over_the_lease_outlasts_the_transformers_timeout() -> None:
    timeout = load_template()["Resources"]["TransformerFunction"]["Properties"]["Timeout"]
    assert timedelta(seconds=timeout) < files.INGESTION_LEASE
