"""The AWS fault profile (tools/local/faults.py): each fault fires when asked for, is counted, and has AWS's shape
and timing; with the profile off the local stack stays as kind as before."""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.local.faults import RATES, FaultProfile, UnknownFault, parse
from tools.local.moto_server import moto_server
from tools.local.runtime import Function, FunctionError, Zygote
from tools.local.server import LocalStack
from tools.local.stack import Stack
from tools.local.wiring import Wiring

# ------------------------------------------------------------------ the profile


def test_aws_is_every_fault_and_each_can_be_left_out_or_chosen_alone() -> None:
    assert parse("aws") == frozenset(RATES)
    assert parse("aws:-conflicts,-crashes") == frozenset(RATES) - {"conflicts", "crashes"}
    assert parse("throttles, timeouts") == {"throttles", "timeouts"}
    assert parse("off") == parse("") == frozenset()
    with pytest.raises(UnknownFault, match="sunspots"):
        parse("aws:-sunspots")


def test_the_same_seed_fires_the_same_faults_and_counts_them() -> None:
    def rolls(seed: int) -> list[bool]:
        profile = FaultProfile.from_spec("throttles", seed=seed)
        fired = [profile.fires("throttles") for _ in range(500)]
        assert profile.counts().get("throttles", 0) == sum(fired)
        return fired

    assert rolls(3) == rolls(3)
    assert rolls(3) != rolls(4)
    assert 0 < sum(rolls(3)) < 50  # a low rate: about 2 %
    assert not FaultProfile().fires("throttles")


# ------------------------------------------------------------------ DynamoDB's refusals, from moto's server


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[str, Any]]:
    with moto_server() as endpoint:
        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),  # each refusal, unretried
        )
        client.create_table(
            TableName="items",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield endpoint, client


def turn_on(endpoint: str, faults: str, **rates: float) -> dict[str, Any]:
    asked = {"faults": faults, "seed": 1, "rates": {name.replace("_", "-"): rate for name, rate in rates.items()}}
    request = urllib.request.Request(f"{endpoint}/_local/faults", data=json.dumps(asked).encode())  # noqa: S310
    with urllib.request.urlopen(request) as answer:  # noqa: S310 - the test's own moto server
        fired: dict[str, Any] = json.loads(answer.read())
        return fired


def fired(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{endpoint}/_local/faults") as answer:  # noqa: S310 - the test's moto server
        counts: dict[str, Any] = json.loads(answer.read())
        return counts


def two_puts(*ids: str) -> list[dict[str, Any]]:
    return [{"Put": {"TableName": "items", "Item": {"id": {"S": i}}}} for i in ids]


def stored(client: Any, *ids: str) -> list[str]:
    return [i for i in ids if "Item" in client.get_item(TableName="items", Key={"id": {"S": i}})]


def test_a_transaction_is_cancelled_for_a_conflict_on_an_item_being_written_with_a_reason_per_item(
    moto: tuple[str, Any],
) -> None:
    endpoint, client = moto
    turn_on(endpoint, "conflicts", conflicts=1.0)
    client.put_item(TableName="items", Item={"id": {"S": "t1"}})  # no transaction wrote it: no conflict
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=two_puts("t2", "t1"))  # t1 was just written by another
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    # One reason per item, as DynamoDB lists them: the conflict on the item another writer had.
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None", "TransactionConflict"]
    client.transact_write_items(TransactItems=two_puts("t3", "t4"))  # fresh items: nothing to conflict with
    with pytest.raises(ClientError, match="TransactionConflictException"):  # a plain write racing that transaction
        client.put_item(TableName="items", Item={"id": {"S": "t3"}, "late": {"S": "yes"}})
    assert fired(endpoint)["conflicts"] == 2
    turn_on(endpoint, "off")
    assert stored(client, "t1", "t2", "t3", "t4") == ["t1", "t3", "t4"]
    assert "late" not in client.get_item(TableName="items", Key={"id": {"S": "t3"}})["Item"]


def test_throttles_refuse_reads_and_writes_and_cancel_transactions_with_throttling_error(
    moto: tuple[str, Any],
) -> None:
    endpoint, client = moto
    turn_on(endpoint, "throttles", throttles=1.0)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceededException"):
        client.get_item(TableName="items", Key={"id": {"S": "x"}})
    with pytest.raises(ClientError, match="ProvisionedThroughputExceededException"):
        client.update_item(TableName="items", Key={"id": {"S": "x"}}, UpdateExpression="SET n = :n",
                           ExpressionAttributeValues={":n": {"N": "1"}})  # fmt: skip
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=two_puts("y1", "y2"))
    assert "ThrottlingError" in [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert fired(endpoint)["throttles"] == 3
    turn_on(endpoint, "off")
    assert stored(client, "x", "y1", "y2") == []


def test_a_batch_write_leaves_half_its_items_unprocessed_and_writes_only_the_rest(moto: tuple[str, Any]) -> None:
    endpoint, client = moto
    turn_on(endpoint, "unprocessed-items", unprocessed_items=1.0)
    ids = [f"b{n}" for n in range(10)]
    answer = client.batch_write_item(RequestItems={"items": [{"PutRequest": {"Item": {"id": {"S": i}}}} for i in ids]})
    left = [entry["PutRequest"]["Item"]["id"]["S"] for entry in answer["UnprocessedItems"]["items"]]
    keys = client.batch_get_item(RequestItems={"items": {"Keys": [{"id": {"S": i}} for i in ids]}})
    assert len(keys["UnprocessedKeys"]["items"]["Keys"]) == 5
    lone = client.batch_write_item(RequestItems={"items": [{"PutRequest": {"Item": {"id": {"S": "lone"}}}}]})
    assert lone["UnprocessedItems"] == {}  # a batch of one is throttled whole or not at all (`throttles`)
    turn_on(endpoint, "off")
    assert len(left) == 5
    assert stored(client, *ids) == [i for i in ids if i not in left]
    assert stored(client, "lone") == ["lone"]


def test_with_the_profile_off_moto_refuses_nothing(moto: tuple[str, Any]) -> None:
    endpoint, client = moto
    assert turn_on(endpoint, "off") == {"enabled": []}
    client.transact_write_items(TransactItems=two_puts("ok1", "ok2"))
    assert stored(client, "ok1", "ok2") == ["ok1", "ok2"]


# ------------------------------------------------------------------ event sources and asynchronous invocations

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "DataBucket": {"Type": "AWS::S3::Bucket"},
        "WorkQueue": {"Type": "AWS::SQS::Queue"},
        "FilesDLQ": {"Type": "AWS::SQS::Queue"},
        "FilesFailures": {"Type": "AWS::SQS::Queue"},
        "OutboxTable": {"Type": "AWS::DynamoDB::Table"},
        "FilesFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "DeadLetterQueue": {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["FilesDLQ", "Arn"]}},
                "EventInvokeConfig": {
                    "DestinationConfig": {
                        "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FilesFailures", "Arn"]}}
                    }
                },
                "Events": {
                    "Created": {
                        "Type": "EventBridgeRule",
                        "Properties": {"Pattern": {"source": ["aws.s3"], "detail-type": ["Object Created"]}},
                    }
                },
            },
        },
        "WorkFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "Work": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
                            "BatchSize": 10,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                            "ScalingConfig": {"MaximumConcurrency": 3},
                        },
                    }
                }
            },
        },
        "RelayFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "Outbox": {
                        "Type": "DynamoDB",
                        "Properties": {"Stream": {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}, "BatchSize": 100},
                    }
                }
            },
        },
    }
}


@pytest.fixture
def stack(aws_session: boto3.session.Session) -> Iterator[Stack]:
    with mock_aws():
        stack = Stack(aws_session, copy.deepcopy(TEMPLATE), aws_session.region_name)
        s3, sqs, dynamodb = stack.client("s3"), stack.client("sqs"), stack.client("dynamodb")
        s3.create_bucket(Bucket="data", CreateBucketConfiguration={"LocationConstraint": stack.region})
        s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
        stack.physical["DataBucket"] = "data"
        for queue in ("WorkQueue", "FilesDLQ", "FilesFailures"):
            stack.physical[queue] = sqs.create_queue(QueueName=queue)["QueueUrl"]
            stack.arns[queue] = sqs.get_queue_attributes(QueueUrl=stack.physical[queue], AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        table = dynamodb.create_table(
            TableName="outbox",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        stack.streams["OutboxTable"] = table["LatestStreamArn"]
        yield stack


def send(stack: Stack, *bodies: str) -> None:
    for body in bodies:
        stack.client("sqs").send_message(QueueUrl=stack.physical["WorkQueue"], MessageBody=body)


def test_queue_batches_come_shuffled_some_twice_some_later_and_several_in_flight(stack: Stack) -> None:
    batches: list[list[str]] = []
    receives: set[str] = set()

    def work(function: str, event: dict[str, Any]) -> dict[str, Any]:
        batches.append([record["body"] for record in event["Records"]])
        receives.update(record["attributes"]["ApproximateReceiveCount"] for record in event["Records"])
        return {"batchItemFailures": []}

    faults = FaultProfile.from_spec("reorder,duplicates,delays", seed=5)
    faults.rates |= {"duplicates": 0.3, "delays": 0.2}
    wiring = Wiring(stack, invoker=work, faults=faults)
    (mapping,) = wiring.queue_mappings()
    bodies = [str(n) for n in range(40)]
    send(stack, *bodies)
    deadline = time.monotonic() + 30
    while wiring.depth("WorkQueue") and time.monotonic() < deadline:
        wiring.poll(mapping)
        time.sleep(0.05)

    handled = [body for batch in batches for body in batch]
    counts = faults.counts()
    assert sorted(set(handled), key=int) == bodies  # every message handled...
    assert len(handled) - len(bodies) == counts["duplicates"] > 0  # ...some twice, each duplicate counted
    assert counts["delays"] > 0
    first = {body: n for n, body in reversed(list(enumerate(handled)))}  # where each body was first handled
    held_back = [b for b in bodies if any(first[b] > first[later] for later in bodies if int(later) >= int(b) + 10)]
    assert held_back  # handled after messages sent a whole batch later
    assert receives == {"1"}  # held in flight, not received again: no receive counts towards the redrive
    assert any(batch != sorted(batch, key=int) for batch in batches)  # no order within a batch
    assert wiring.pollers(mapping) == 3  # five batches at a time, capped by MaximumConcurrency
    assert Wiring(stack).pollers(mapping) == 1  # off: one batch at a time, as before


def test_stream_records_keep_their_order_per_item_but_not_across_items_in_batches_at_once(stack: Stack) -> None:
    seen: list[tuple[str, int]] = []
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def relay(function: str, event: dict[str, Any]) -> None:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
            seen.extend(
                (r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["NewImage"]["n"]["N"])) for r in event["Records"]
            )

    faults = FaultProfile.from_spec("reorder", seed=2)
    wiring = Wiring(stack, invoker=relay, faults=faults)
    (mapping,) = wiring.stream_mappings()
    dynamodb = stack.client("dynamodb")
    for n in range(30):
        dynamodb.put_item(TableName="outbox", Item={"pk": {"S": f"item-{n % 5}"}, "n": {"N": str(n)}})
    wiring.poll_stream(mapping)

    assert sorted(n for _, n in seen) == list(range(30))
    for item in {key for key, _ in seen}:
        assert [n for key, n in seen if key == item] == sorted(n for key, n in seen if key == item)  # per item: order
    assert [n for _, n in seen] != list(range(30))  # across items: none
    assert most[0] > 1  # several batches of one shard in flight at once
    assert faults.counts()["reorder"] == 1


def test_a_stream_batch_resumes_at_the_lowest_sequence_number_reported_failed(stack: Stack) -> None:
    delivered: list[list[int]] = []

    def relay(function: str, event: dict[str, Any]) -> dict[str, Any]:
        numbers = [int(r["dynamodb"]["NewImage"]["n"]["N"]) for r in event["Records"]]
        delivered.append(numbers)
        failed = [
            r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["dynamodb"]["NewImage"]["n"]["N"] in "13"
        ]
        return {"batchItemFailures": [{"itemIdentifier": s} for s in reversed(failed)]} if len(delivered) == 1 else {}

    wiring = Wiring(stack, invoker=relay)
    (mapping,) = wiring.stream_mappings()
    for n in range(5):
        stack.client("dynamodb").put_item(TableName="outbox", Item={"pk": {"S": f"k{n}"}, "n": {"N": str(n)}})
    wiring.poll_stream(mapping)
    wiring.poll_stream(mapping)

    assert delivered == [[0, 1, 2, 3, 4], [1, 2, 3, 4]]  # from record 1, not from 3 (reported first)


def test_a_failing_asynchronous_invocation_is_retried_after_aws_delays_then_dead_lettered(stack: Stack) -> None:
    attempts: list[float] = []

    def failing(function: str, event: dict[str, Any], **_: Any) -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("the Transformer died")

    faults = FaultProfile.from_spec("async-retries", time_scale=300)  # 1 min → 0.2 s, 2 min → 0.4 s
    wiring = Wiring(stack, invoker=failing, faults=faults)
    stack.client("s3").put_object(Bucket="data", Key="incoming/a.json", Body=b"[]")
    results = wiring.deliver(wiring.object_created_event("data", "incoming/a.json"))

    assert results == [("FilesFunction", None)]  # not waited for: Lambda queues asynchronous events
    dlq = stack.client("sqs")
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not messages and time.monotonic() < deadline:
        messages = dlq.receive_message(
            QueueUrl=stack.physical["FilesDLQ"], MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        time.sleep(0.05)
    assert len(attempts) == 3  # the first attempt and AWS's two retries
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert 0.2 <= gaps[0] < 0.4 <= gaps[1] < 0.8  # 1 minute, then 2, compressed 300 times
    (message,) = messages
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "incoming/a.json"
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "the Transformer died"
    assert {"RequestID", "ErrorCode"} <= set(message["MessageAttributes"])
    assert faults.counts() == {"async-retries": 2, "dead-lettered": 1}
    (failure,) = dlq.receive_message(QueueUrl=stack.physical["FilesFailures"]).get("Messages", [])
    record = json.loads(failure["Body"])  # the OnFailure destination's invocation record
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"]["detail"]["object"]["key"] == "incoming/a.json"
    assert record["responsePayload"]["errorMessage"] == "the Transformer died"


def test_an_asynchronous_invocation_is_retried_as_often_as_its_event_invoke_config_says(stack: Stack) -> None:
    attempts: list[float] = []

    def failing(function: str, event: dict[str, Any], **_: Any) -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("fails")

    stack.template["Resources"]["FilesFunction"]["Properties"]["EventInvokeConfig"]["MaximumRetryAttempts"] = 0
    wiring = Wiring(stack, invoker=failing, faults=FaultProfile.from_spec("async-retries", time_scale=300))
    stack.client("s3").put_object(Bucket="data", Key="once", Body=b"")
    wiring.deliver(wiring.object_created_event("data", "once"))
    deadline = time.monotonic() + 10
    while not stack.client("sqs").receive_message(QueueUrl=stack.physical["FilesDLQ"]).get("Messages"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert len(attempts) == 1


def test_without_the_profile_asynchronous_retries_come_at_once(stack: Stack) -> None:
    attempts: list[str] = []

    def failing(function: str, event: dict[str, Any]) -> None:
        attempts.append(function)
        raise RuntimeError("fails")

    wiring = Wiring(stack, invoker=failing)
    stack.client("s3").put_object(Bucket="data", Key="k", Body=b"")
    assert wiring.deliver(wiring.object_created_event("data", "k")) == [("FilesFunction", None)]
    assert attempts == ["FilesFunction"] * 3  # already done: the kind stack's retries do not wait


def test_crashes_after_side_effects_fail_the_invocation_after_the_work_is_done(stack: Stack) -> None:
    done: list[str] = []

    def work(function: str, event: dict[str, Any], crash_after: bool = False) -> dict[str, Any]:
        done.extend(record["body"] for record in event["Records"])
        if crash_after:
            raise FunctionError(function, {"errorType": "Runtime.ExitError", "errorMessage": "the worker exited"})
        return {"batchItemFailures": []}

    faults = FaultProfile.from_spec("crashes", seed=1)
    faults.rates["crashes"] = 1.0
    wiring = Wiring(stack, invoker=work, faults=faults)
    (mapping,) = wiring.queue_mappings()
    send(stack, "paid")
    wiring.poll(mapping)

    assert done == ["paid"]  # its side effects happened...
    assert wiring.depth("WorkQueue") == 1  # ...and the message stays, to be handled again
    assert faults.counts() == {"crashes": 1}


def test_eventbridge_sends_the_key_as_stored(stack: Stack) -> None:
    key = "incoming/a+b c%41.json"
    stack.client("s3").put_object(Bucket="data", Key=key, Body=b"[]")
    event = Wiring(stack).object_created_event("data", key)
    assert event["detail"]["object"]["key"] == key  # not S3 notifications' `incoming/a%2Bb+c%2541.json`


def test_every_version_of_an_overwritten_object_gets_its_own_event_with_its_version_id(stack: Stack) -> None:
    s3 = stack.client("s3")
    versions = [
        s3.put_object(Bucket="data", Key="incoming/a.json", Body=body)["VersionId"] for body in (b"[1]", b"[2]")
    ]
    local = LocalStack(stack=stack)
    stack.template = {"Resources": {"DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {
        "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}}}}}  # fmt: skip
    seen: set[tuple[str, str, str]] = set()
    found = list(local._new_objects(seen))
    events = [Wiring(stack).object_created_event(*identity) for identity in found]

    assert [event["detail"]["object"]["version-id"] for event in events] == versions
    assert [event["detail"]["object"]["size"] for event in events] == [3, 3]
    assert list(local._new_objects(seen)) == []  # each version once


# ------------------------------------------------------------------ the template's Timeout, in a worker

HANDLER = """
import time
from pathlib import Path

def lambda_handler(event, context):
    Path(event["mark"]).write_text("side effect")
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    zygote = Zygote()
    yield zygote
    zygote.stop()


@pytest.fixture
def function(zygote: Zygote, tmp_path: Path) -> Iterator[Function]:
    (tmp_path / "app.py").write_text(HANDLER)
    function = Function("SlowFunction", tmp_path, {}, tmp_path / "SlowFunction.log", zygote, 2, lambda _: None)
    function.timeout = 1.0
    yield function
    function.stop()


def test_an_invocation_past_the_timeout_is_stopped_as_a_function_error_and_the_next_gets_a_fresh_worker(
    function: Function, tmp_path: Path
) -> None:
    function.warm()  # the timeout counts the invocation, not a cold start
    started = time.monotonic()
    with pytest.raises(FunctionError) as timed_out:
        function.invoke({"mark": str(tmp_path / "slow"), "sleep": 120})
    assert time.monotonic() - started < 60  # stopped at its timeout (1 s; slack for a loaded machine), not at 120
    assert timed_out.value.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
    }
    assert function.workers == 0  # stopped, not reused
    assert function.invoke({"mark": str(tmp_path / "quick")}) == {"ok": True}


def test_a_worker_that_crashes_after_its_side_effects_is_a_function_error(function: Function, tmp_path: Path) -> None:
    mark = tmp_path / "crashed"
    with pytest.raises(FunctionError, match=r"Runtime\.ExitError"):
        function.invoke({"mark": str(mark)}, crash_after=True)
    assert mark.read_text() == "side effect"
