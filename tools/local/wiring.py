"""What AWS does between the functions, read from template.yaml: EventBridge rules deliver S3 events,
SQS event source mappings poll queues into handlers (batch size, partial batch failures, redrive).

Functions run in-process against moto. Nothing here knows a function by name: the template routes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

from tools.local.lambda_context import LambdaContext
from tools.local.stack import Stack


@dataclass
class QueueMapping:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int


Invoker = Callable[[str, dict[str, Any]], Any]


@dataclass
class Wiring:
    stack: Stack
    # How a function runs: in this process by default (tests); the local stack passes its workers.
    invoker: Invoker | None = None
    handlers: dict[str, ModuleType] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)
    # Fraction of successfully handled messages whose delete "gets lost" (the message comes back).
    lost_deletes: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))  # noqa: S311 - test randomness

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        self.invocations[function] = self.invocations.get(function, 0) + 1
        if self.invoker:
            return self.invoker(function, event)
        return self._handler(function).lambda_handler(event, LambdaContext(function_name=function))

    # ------------------------------------------------------------------ S3 → EventBridge → functions

    def upload(self, key: str, body: bytes, bucket_logical_id: str = "DataBucket") -> list[tuple[str, Any]]:
        """Put an object, then deliver its Object Created event to every rule that matches it."""
        bucket = self.stack.physical[bucket_logical_id]
        s3 = self.stack.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        return self.deliver(self.object_created_event(bucket, key))

    def object_created_event(self, bucket: str, key: str) -> dict[str, Any]:
        head = self.stack.client("s3").head_object(Bucket=bucket, Key=key)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.stack.region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                # S3 URL-encodes keys in its notifications, as FACTS.md records.
                "object": {
                    "key": quote_plus(key, safe="/"),
                    "size": head["ContentLength"],
                    "etag": head["ETag"].strip('"'),
                },
                "request-id": hashlib.md5(key.encode()).hexdigest()[:16],  # noqa: S324 - an id, not security
                "reason": "PutObject",
            },
        }

    def deliver(self, event: dict[str, Any]) -> list[tuple[str, Any]]:
        """Asynchronous invocations, as EventBridge → Lambda makes them: retried twice on error, then the
        event goes to the function's DeadLetterQueue (None stands for that outcome)."""
        results = []
        for function, pattern in self._rules():
            if _matches(pattern, event):
                results.append((function, self._invoke_async(function, event)))
        return results

    def _invoke_async(self, function: str, event: dict[str, Any], retries: int = 2) -> Any:
        for attempt in range(retries + 1):
            try:
                return self.invoke(function, event)
            except Exception:  # Lambda retries whatever the function raised
                if attempt == retries:
                    self._dead_letter(function, event)
        return None

    def _dead_letter(self, function: str, event: dict[str, Any]) -> None:
        target = self.stack.resolve(self.stack.resources[function]["Properties"]["DeadLetterQueue"]["TargetArn"])
        queue = next(name for name, arn in self.stack.arns.items() if arn == target)
        self.stack.client("sqs").send_message(QueueUrl=self.stack.physical[queue], MessageBody=json.dumps(event))

    def _rules(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (name, self.stack.resolve(spec["Properties"]["Pattern"]))
            for name, function in self.stack.of_type("AWS::Serverless::Function").items()
            for spec in function["Properties"].get("Events", {}).values()
            if spec["Type"] == "EventBridgeRule"
        ]

    # ------------------------------------------------------------------ SQS → functions

    def queue_mappings(self) -> list[QueueMapping]:
        mappings = []
        for name, function in self.stack.of_type("AWS::Serverless::Function").items():
            for spec in function["Properties"].get("Events", {}).values():
                if spec["Type"] != "SQS":
                    continue
                props = spec["Properties"]
                assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], name
                queue = props["Queue"]["Fn::GetAtt"]
                logical = queue.split(".")[0] if isinstance(queue, str) else queue[0]
                mappings.append(
                    QueueMapping(
                        name, self.stack.physical[logical], self.stack.arns[logical], props.get("BatchSize", 10)
                    )
                )
        return mappings

    def drain(self, *, max_rounds: int = 10_000) -> int:
        """Poll every mapped queue into its function until all are empty; returns the batches delivered."""
        batches = 0
        for _ in range(max_rounds):
            delivered = sum(self.poll(mapping) for mapping in self.queue_mappings())
            if not delivered:
                return batches
            batches += delivered
        raise AssertionError("queues did not drain")

    def poll(self, mapping: QueueMapping) -> int:
        """One receive from the mapping's queue into its function; 1 if a batch was delivered, else 0."""
        sqs = self.stack.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=mapping.queue_url,
            MaxNumberOfMessages=min(mapping.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        try:
            response = self.invoke(
                mapping.function, {"Records": [_lambda_record(m, mapping, self.stack.region) for m in messages]}
            )
            failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        except Exception:  # an invocation error fails the whole batch
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            retry = message["MessageId"] in failed or self.rng.random() < self.lost_deletes
            if retry:  # as if the visibility timeout ran out: the message is received again (or redriven)
                sqs.change_message_visibility(
                    QueueUrl=mapping.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=mapping.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return 1

    def depth(self, queue_logical_id: str) -> int:
        attributes = self.stack.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.physical[queue_logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _handler(self, function: str) -> ModuleType:
        if function not in self.handlers:
            code_uri = self.stack.resources[function]["Properties"]["CodeUri"].strip("/")
            self.handlers[function] = importlib.import_module(code_uri.replace("/", ".") + ".app")
        return self.handlers[function]


def _lambda_record(message: dict[str, Any], mapping: QueueMapping, region: str) -> dict[str, Any]:
    """A received message in the shape Lambda's SQS event source hands to functions."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            key: attributes[key]
            for key in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
            if key in attributes
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.queue_arn,
        "awsRegion": region,
    }


def _matches(pattern: Any, event: Any) -> bool:
    """EventBridge content filtering: the subset our rules use (exact values, prefix, suffix, wildcard)."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and _matches(v, event[k]) for k, v in pattern.items())
    return any(_matches_one(option, event) for option in pattern)


def _matches_one(option: Any, value: Any) -> bool:
    if not isinstance(option, dict):
        return bool(option == value)
    text = str(value)
    checks: dict[str, Callable[[str], bool]] = {
        "prefix": text.startswith,
        "suffix": text.endswith,
        "wildcard": lambda p: fnmatch.fnmatchcase(text, p),
    }
    return all(checks[kind](argument) for kind, argument in option.items())
