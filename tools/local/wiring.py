"""What AWS does between the functions, read from template.yaml: EventBridge rules deliver S3 events,
SQS event source mappings poll queues into handlers (batch size, partial batch failures, redrive), and
DynamoDB stream mappings read table streams into handlers (filters, resume at the failed record, retries,
on-failure destination). SNS → SQS subscriptions need nothing here: moto delivers them itself.

Functions run in-process against moto. Nothing here knows a function by name: the template routes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from tools.local.faults import ASYNC_RETRY_DELAYS, FaultProfile
from tools.local.lambda_context import LambdaContext
from tools.local.runtime import ROOT
from tools.local.stack import Stack


@dataclass
class QueueMapping:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    # ScalingConfig.MaximumConcurrency, or None: Lambda's own cap then (1,000 batches for SQS)
    max_concurrency: int | None = None


@dataclass
class StreamMapping:
    function: str
    stream_arn: str
    batch_size: int
    patterns: list[Any]
    max_retries: int
    on_failure_arn: str | None


Invoker = Callable[..., Any]  # (function, event, crash_after=False, request_id=None) → the function's answer
# Lambda's SQS event source starts with five batches at a time (with-sqs.html, "Scaling and processing").
SQS_STARTING_BATCHES = 5
# Stream batches read in parallel per item key, as with a ParallelizationFactor above 1 (with-ddb.html).
STREAM_LANES = 3


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
    # AWS's weather (tools.local.faults): off unless asked for.
    faults: FaultProfile = field(default_factory=FaultProfile)
    stopped: threading.Event = field(default_factory=threading.Event)  # ends pending asynchronous retries
    # Per (function, shard): where its mapping reads next, and how often the record there has failed.
    # A position is where to read from (AT or AFTER a sequence number), not a shard iterator: moto rolls a
    # cancelled transaction back by replacing its tables with copies, which orphans iterators taken before.
    _positions: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _failures: dict[tuple[str, str], int] = field(default_factory=dict)
    # Received messages the `delays` fault holds back: (when they are due, their mapping, the message).
    _held: list[tuple[float, QueueMapping, dict[str, Any]]] = field(default_factory=list)
    _holding: threading.Lock = field(default_factory=threading.Lock)

    def invoke(
        self, function: str, event: dict[str, Any], *, crash_after: bool = False, request_id: str | None = None
    ) -> Any:
        """Run `function` on `event`; `crash_after`: its worker dies after the handler's side effects, unanswered;
        `request_id`: the invocation's, which an asynchronous invocation keeps across its retries (a new one when
        None, as every other invocation gets)."""
        self.invocations[function] = self.invocations.get(function, 0) + 1
        if self.invoker:
            options = {"crash_after": crash_after, "request_id": request_id}  # only those set: tests' invokers
            return self.invoker(function, event, **{name: value for name, value in options.items() if value})
        context = LambdaContext(
            function_name=function,
            aws_request_id=request_id or str(uuid.uuid4()),
            timeout_seconds=self.stack.timeout(function),
        )
        answer = self._handler(function).lambda_handler(event, context)
        if crash_after:
            raise RuntimeError(f"{function} crashed after its side effects")
        return answer

    def _crashes(self) -> bool:
        return self.faults.fires("crashes")

    # ------------------------------------------------------------------ S3 → EventBridge → functions

    def upload(self, key: str, body: bytes, bucket_logical_id: str = "DataBucket") -> list[tuple[str, Any]]:
        """Put an object, then deliver its Object Created event to every rule that matches it."""
        bucket = self.stack.physical[bucket_logical_id]
        s3 = self.stack.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        return self.deliver(self.object_created_event(bucket, key))

    def object_created_event(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any]:
        """EventBridge's event for `key` (for its version `version_id` in a versioned bucket)."""
        s3 = self.stack.client("s3")
        head = s3.head_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
        event = {
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
                "object": {
                    "key": key,  # as stored: EventBridge does not URL-encode it, S3's notifications do (ev-events.html)
                    "size": head["ContentLength"],
                    "etag": head["ETag"].strip('"'),
                },
                "request-id": hashlib.md5(key.encode()).hexdigest()[:16],  # noqa: S324 - an id, not security
                "reason": "PutObject",
            },
        }
        if version_id:
            event["detail"]["object"]["version-id"] = version_id  # type: ignore[index]
        return event

    def deliver(self, event: dict[str, Any]) -> list[tuple[str, Any]]:
        """Asynchronous invocations, as EventBridge → Lambda makes them: retried twice on error, then the
        event goes to the function's DeadLetterQueue (None stands for that outcome). With the `async-retries`
        fault, each runs on its own with AWS's delays between attempts (None: the answer is not waited for)."""
        results = []
        for function, pattern in self._rules():
            if not _matches(pattern, event):
                continue
            if self.faults.on("async-retries"):
                threading.Thread(
                    target=self._invoke_async_with_delays, args=(function, event), name=f"async {function}", daemon=True
                ).start()
                results.append((function, None))
            else:
                results.append((function, self._invoke_async(function, event)))
        return results

    def _invoke_async(self, function: str, event: dict[str, Any], retries: int = 2) -> Any:
        request_id = str(uuid.uuid4())  # one asynchronous invocation: its retries keep its request id
        for attempt in range(retries + 1):
            try:
                return self.invoke(function, event, request_id=request_id)
            except Exception as error:  # Lambda retries whatever the function raised
                if attempt == retries:
                    self._dead_letter(function, event, request_id, error)
        return None

    def _invoke_async_with_delays(self, function: str, event: dict[str, Any]) -> None:
        """Lambda's asynchronous retries: after 1 minute, then after 2 more (divided by the profile's time scale),
        then the dead-letter queue (invocation-async-error-handling.html)."""
        error: Exception | None = None
        request_id = str(uuid.uuid4())  # one asynchronous invocation: its retries keep its request id
        config = self.stack.resources[function]["Properties"].get("EventInvokeConfig", {})
        retries = ASYNC_RETRY_DELAYS[: config.get("MaximumRetryAttempts", len(ASYNC_RETRY_DELAYS))]
        for delay in (0.0, *retries):
            if delay:
                self.faults.count("async-retries")
                if self.stopped.wait(self.faults.delay(delay)):
                    return
            try:
                self.invoke(function, event, crash_after=self._crashes(), request_id=request_id)
                return
            except Exception as failed:  # Lambda retries whatever the function raised
                error = failed
        self.faults.count("dead-lettered")
        self._dead_letter(function, event, request_id, error, attempts=1 + len(retries))

    def _dead_letter(
        self, function: str, event: dict[str, Any], request_id: str, error: Exception | None = None, attempts: int = 3
    ) -> None:
        """The event to the function's dead-letter queue, with the attributes Lambda adds (RequestID, ErrorCode,
        ErrorMessage), and an invocation record to its OnFailure destination when it has one (an SQS queue here):
        invocation-async-error-handling.html, "Dead-letter queues" and "Invocation records"."""
        properties = self.stack.resources[function]["Properties"]
        sqs = self.stack.client("sqs")
        message = str(error or "the function failed")[:1024]
        if "DeadLetterQueue" in properties:
            attributes = {
                "RequestID": {"DataType": "String", "StringValue": request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message},
            }
            sqs.send_message(
                QueueUrl=self._queue_url(properties["DeadLetterQueue"]["TargetArn"]),
                MessageBody=json.dumps(event),
                MessageAttributes=attributes,
            )
        on_failure = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
        if on_failure and on_failure.get("Type", "SQS") == "SQS":
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "requestContext": {
                    "requestId": request_id,
                    "functionArn": f"{self.stack.resolve({'Fn::GetAtt': [function, 'Arn']})}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": {"errorMessage": message, "errorType": type(error).__name__ if error else "Error"},
            }
            sqs.send_message(QueueUrl=self._queue_url(on_failure["Destination"]), MessageBody=json.dumps(record))

    def _queue_url(self, arn: Any) -> str:
        target = self.stack.resolve(arn)
        return self.stack.physical[next(name for name, known in self.stack.arns.items() if known == target)]

    def _rules(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, self.stack.resolve(props["Pattern"])) for name, props in self._sources("EventBridgeRule")]

    def _sources(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """(function, event properties) for every event of type `kind` the template gives a function."""
        return [
            (name, spec["Properties"])
            for name, function in self.stack.of_type("AWS::Serverless::Function").items()
            for spec in function["Properties"].get("Events", {}).values()
            if spec["Type"] == kind
        ]

    # ------------------------------------------------------------------ SQS → functions

    def queue_mappings(self) -> list[QueueMapping]:
        mappings = []
        for name, props in self._sources("SQS"):
            assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], name
            queue = props["Queue"]["Fn::GetAtt"]
            logical = queue.split(".")[0] if isinstance(queue, str) else queue[0]
            mappings.append(
                QueueMapping(
                    name,
                    self.stack.physical[logical],
                    self.stack.arns[logical],
                    props.get("BatchSize", 10),
                    props.get("ScalingConfig", {}).get("MaximumConcurrency"),
                )
            )
        return mappings

    def pollers(self, mapping: QueueMapping) -> int:
        """How many batches of the queue the stack keeps in flight: the mapping's MaximumConcurrency (one where it
        declares none), or with the `reorder` fault as many as Lambda starts with (five) within it."""
        if self.faults.on("reorder"):
            return min(SQS_STARTING_BATCHES, mapping.max_concurrency or SQS_STARTING_BATCHES)
        return mapping.max_concurrency or 1  # kind: one batch at a time, unless the mapping asks for more

    def drain(self, *, max_rounds: int = 10_000) -> int:
        """Poll every mapped queue and stream into its function until all are empty; returns the batches delivered."""
        batches = 0
        for _ in range(max_rounds):
            delivered = self.poll_all()
            if not delivered:
                return batches
            batches += delivered
        raise AssertionError("queues did not drain")

    def poll_all(self) -> int:
        """One round over every event source mapping; the number of batches delivered."""
        return sum(self.poll(mapping) for mapping in self.queue_mappings()) + sum(
            self.poll_stream(mapping) for mapping in self.stream_mappings()
        )

    def poll(self, mapping: QueueMapping) -> int:
        """One receive from the mapping's queue into its function; 1 if a batch was delivered, else 0."""
        sqs = self.stack.client("sqs")
        faults = self.faults
        messages = self._due(mapping) or sqs.receive_message(
            QueueUrl=mapping.queue_url,
            MaxNumberOfMessages=min(mapping.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        if faults.on("delays"):  # held back a few seconds (still in flight): delivered after messages sent later
            held = [m for m in messages if faults.fires("delays")]
            with self._holding:
                self._held += [(time.monotonic() + faults.choice("delays").uniform(1, 3), mapping, m) for m in held]
            messages = [m for m in messages if m not in held]
            if not messages:
                return 1
        if faults.on("reorder"):  # a standard queue keeps no order within a batch either
            faults.choice("reorder").shuffle(messages)
            faults.count("reorder")
        failed = self._deliver_queue_batch(mapping, messages)
        if faults.on("duplicates"):  # handled, then received and handled again
            again = [m for m in messages if m["MessageId"] not in failed and faults.fires("duplicates")]
            if again:
                self._deliver_queue_batch(mapping, again)
        for message in messages:
            retry = message["MessageId"] in failed or self.rng.random() < self.lost_deletes
            if retry:  # as if the visibility timeout ran out: the message is received again (or redriven)
                sqs.change_message_visibility(
                    QueueUrl=mapping.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=mapping.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return 1

    def _due(self, mapping: QueueMapping) -> list[dict[str, Any]]:
        """The mapping's held messages whose delay is over, taken from the holding."""
        now = time.monotonic()
        with self._holding:
            due = [m for until, held, m in self._held if held == mapping and until <= now][: mapping.batch_size]
            self._held = [entry for entry in self._held if entry[2] not in due]
        return due

    def _deliver_queue_batch(self, mapping: QueueMapping, messages: list[dict[str, Any]]) -> set[str]:
        """The ids of the messages the invocation failed."""
        try:
            response = self.invoke(
                mapping.function,
                {"Records": [_lambda_record(m, mapping, self.stack.region) for m in messages]},
                crash_after=self._crashes(),
            )
            return {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        except Exception:  # an invocation error fails the whole batch
            return {m["MessageId"] for m in messages}

    # ------------------------------------------------------------------ DynamoDB streams → functions

    def stream_mappings(self) -> list[StreamMapping]:
        mappings = []
        for name, source in self._sources("DynamoDB"):
            props = self.stack.resolve(source)
            filters = props.get("FilterCriteria", {}).get("Filters", [])
            mappings.append(
                StreamMapping(
                    function=name,
                    stream_arn=props["Stream"],
                    batch_size=props.get("BatchSize", 100),
                    patterns=[json.loads(f["Pattern"]) for f in filters],
                    max_retries=props.get("MaximumRetryAttempts", -1),
                    on_failure_arn=props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                )
            )
        return mappings

    def poll_stream(self, mapping: StreamMapping) -> int:
        """One read from each shard into the function, as Lambda's stream poller does: records the filters
        drop are skipped, a failure makes the mapping resume at the failed record, and a record that keeps
        failing beyond MaximumRetryAttempts is reported to the on-failure destination and passed."""
        streams = self.stack.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            position = (mapping.function, shard["ShardId"])
            start: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
            if position in self._positions:
                kind, sequence = self._positions[position]
                start = {"ShardIteratorType": kind, "SequenceNumber": sequence}
            iterator = streams.get_shard_iterator(StreamArn=mapping.stream_arn, ShardId=shard["ShardId"], **start)
            page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=mapping.batch_size)
            records = [_stream_record(r, mapping.stream_arn) for r in page["Records"]]
            wanted = [r for r in records if not mapping.patterns or any(_matches(p, r) for p in mapping.patterns)]
            if wanted and self.faults.fires("delays"):
                self.stopped.wait(self.faults.choice("delays").uniform(0.1, 1.0))
            failed_at = self._deliver_stream_records(mapping, wanted) if wanted else None
            if failed_at is None and wanted and self.faults.fires("duplicates"):
                continue  # handled, and read again from the same position: delivered twice
            if failed_at is None:
                if records:
                    self._positions[position] = ("AFTER_SEQUENCE_NUMBER", records[-1]["dynamodb"]["SequenceNumber"])
                self._failures.pop(position, None)
            else:
                self._retry_or_pass(mapping, position, shard["ShardId"], failed_at)
            delivered += bool(wanted)
        return delivered

    def _deliver_stream_records(self, mapping: StreamMapping, records: list[dict[str, Any]]) -> str | None:
        """One batch; or with the `reorder` fault, lanes of item keys delivered at once (each item's records in
        order, items in none). None when all succeeded, else the lowest sequence number to resume from."""
        if not self.faults.on("reorder") or len(records) < 2:
            return self._deliver_stream_batch(mapping, records)
        die = self.faults.choice("reorder")
        lanes: dict[int, list[dict[str, Any]]] = {}
        lane_of: dict[str, int] = {}
        for record in records:
            key = json.dumps(record["dynamodb"].get("Keys"), sort_keys=True)
            lanes.setdefault(lane_of.setdefault(key, die.randrange(STREAM_LANES)), []).append(record)
        if len(lanes) < 2:
            return self._deliver_stream_batch(mapping, records)
        self.faults.count("reorder")
        outcomes: list[str | None] = []
        threads = [
            threading.Thread(target=lambda lane=lane: outcomes.append(self._deliver_stream_batch(mapping, lane)))
            for lane in lanes.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [sequence for sequence in outcomes if sequence is not None]
        return min(failed, key=int) if failed else None

    def _deliver_stream_batch(self, mapping: StreamMapping, records: list[dict[str, Any]]) -> str | None:
        """None when the batch succeeded, else the sequence number to resume from: the lowest one reported failed
        (with-ddb-batchfailurereporting: Lambda checkpoints at the lowest)."""
        try:
            response = self.invoke(mapping.function, {"Records": records}, crash_after=self._crashes())
        except Exception:
            return str(records[0]["dynamodb"]["SequenceNumber"])
        failures = (response or {}).get("batchItemFailures", [])
        return min((str(f["itemIdentifier"]) for f in failures), key=int) if failures else None

    def _retry_or_pass(self, mapping: StreamMapping, position: tuple[str, str], shard: str, sequence: str) -> None:
        attempts = self._failures.get(position, 0) + 1
        exhausted = 0 <= mapping.max_retries < attempts
        if exhausted and mapping.on_failure_arn:
            queue = next(name for name, arn in self.stack.arns.items() if arn == mapping.on_failure_arn)
            report = {"requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": mapping.function}}
            report["DDBStreamBatchInfo"] = {
                "shardId": shard,
                "startSequenceNumber": sequence,
                "streamArn": mapping.stream_arn,
            }
            self.stack.client("sqs").send_message(QueueUrl=self.stack.physical[queue], MessageBody=json.dumps(report))
        self._failures[position] = 0 if exhausted else attempts
        self._positions[position] = ("AFTER_SEQUENCE_NUMBER" if exhausted else "AT_SEQUENCE_NUMBER", sequence)

    def depth(self, queue_logical_id: str) -> int:
        attributes = self.stack.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.physical[queue_logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def _handler(self, function: str) -> ModuleType:
        if function not in self.handlers:
            code_uri = self.stack.resources[function]["Properties"]["CodeUri"].strip("/")
            code_dir = str(ROOT / code_uri)
            if code_dir not in sys.path:  # the function's own modules import as on Lambda (from /var/task)
                sys.path.append(code_dir)
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


def _stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record in the shape Lambda's DynamoDB event source hands to functions."""
    return {**record, "eventSource": "aws:dynamodb", "eventSourceARN": stream_arn}


def _matches(pattern: Any, event: Any) -> bool:
    """EventBridge (and Lambda event filtering) patterns: the subset the template uses (exact values, prefix,
    suffix, wildcard, anything-but)."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and _matches(v, event[k]) for k, v in pattern.items())
    return any(_matches_one(option, event) for option in pattern)


def _matches_one(option: Any, value: Any) -> bool:
    if not isinstance(option, dict):
        return bool(option == value)
    text = str(value)
    checks: dict[str, Callable[[Any], bool]] = {
        "prefix": text.startswith,
        "suffix": text.endswith,
        "wildcard": lambda p: fnmatch.fnmatchcase(text, p),
        "anything-but": lambda p: not _matches_one(p, value) if isinstance(p, dict) else value not in _listed(p),
    }
    return all(checks[kind](argument) for kind, argument in option.items())


def _listed(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]
