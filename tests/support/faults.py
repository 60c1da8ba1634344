"""Transient AWS faults injected into real (moto) calls through botocore's event hooks.

moto never returns UnprocessedItems nor fails a batch entry (FACTS.md). These hooks make it: a share of
a BatchWriteItem's items is held back from moto and reported as UnprocessedItems, a share of a
SendMessageBatch's entries reported Failed, and a share of calls throttled outright (after botocore's
own retries, as the caller sees it). What moto receives it really stores; what is held back is really
not stored. A hot partition (`unwritable`) is throttled for the whole run: its items always come back
unprocessed, and a call holding nothing else fails with ProvisionedThroughputExceededException, as
BatchWriteItem does when none of its items can be processed
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class Faults:
    rate: float = 0.0
    throttle_rate: float = 0.0
    outage: int = 0  # the first N calls that match fail outright: an outage that then ends
    tables: set[str] | None = None  # only calls that write these tables (all tables when None)
    unwritable: Callable[[dict[str, Any]], bool] | None = None  # items (attribute values) of a throttled partition
    rng: random.Random = field(default_factory=lambda: random.Random(42))  # noqa: S311 - test randomness
    injected: dict[str, int] = field(default_factory=dict)
    _held_back: Any = None
    _fail_call: bool = False
    _sent: bool = True

    def attach(self, client: Any) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_name
        if service == "dynamodb":
            events.register("provide-client-params.dynamodb.BatchWriteItem", self._hold_back_items)
            events.register("before-call.dynamodb.BatchWriteItem", self._maybe_fail_call)
            events.register("after-call.dynamodb.BatchWriteItem", self._report_unprocessed)
        elif service == "sqs":
            events.register("provide-client-params.sqs.SendMessageBatch", self._hold_back_entries)
            events.register("before-call.sqs.SendMessageBatch", self._maybe_fail_call)
            events.register("after-call.sqs.SendMessageBatch", self._report_failed)

    def _count(self, kind: str, n: int = 1) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + n

    def _decide_call_failure(self) -> None:
        if self.outage > 0:
            self.outage -= 1
            self._fail_call = True
        else:
            self._fail_call = self.rng.random() < self.throttle_rate

    def _maybe_fail_call(self, model: Any, **_: Any) -> None:
        if self._fail_call:
            self._fail_call = False
            self._count(f"throttled {model.name} calls")
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, model.name)
        if self._held_back and model.name == "BatchWriteItem" and not self._sent:
            self._held_back = None
            self._count("throttled partition calls")
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, model.name
            )

    def _hold_back_items(self, params: dict[str, Any], **_: Any) -> None:
        self._held_back, self._sent = {}, True
        if self.tables is not None and not set(params["RequestItems"]) & self.tables:
            self._fail_call = False
            return
        self._decide_call_failure()
        kept: dict[str, list[Any]] = {}
        for table, requests in params["RequestItems"].items():
            writable = [r for r in requests if not self._unwritable(r)]
            keep = [r for r in writable if self.rng.random() >= self.rate] or writable[:1]
            kept[table] = keep
            held = [r for r in requests if r not in keep]
            if held:
                self._held_back[table] = held
        # Nothing left to send: the whole call is refused (before-call raises), moto receives nothing.
        self._sent = any(kept.values())
        if self._sent:
            params["RequestItems"] = {table: keep for table, keep in kept.items() if keep}
            self._count("unprocessed items", sum(len(held) for held in self._held_back.values()))

    def _unwritable(self, request: dict[str, Any]) -> bool:
        put = request.get("PutRequest")
        if self.unwritable is None or put is None or not self.unwritable(put["Item"]):
            return False
        self._count("items of a throttled partition")
        return True

    def _report_unprocessed(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._held_back:
            parsed.setdefault("UnprocessedItems", {}).update(self._held_back)
        self._held_back = None

    def _hold_back_entries(self, params: dict[str, Any], **_: Any) -> None:
        self._decide_call_failure()
        entries = params["Entries"]
        keep = [e for e in entries if self.rng.random() >= self.rate] or entries[:1]
        self._held_back = [e for e in entries if e not in keep]
        params["Entries"] = keep
        self._count("failed entries", len(self._held_back))

    def _report_failed(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._held_back:
            parsed.setdefault("Failed", []).extend(
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
                for e in self._held_back
            )
        self._held_back = None


# ---------------------------------------------------------------- DynamoDB's own refusals, on the wire
#
# Each fault below is an HTTP 400 answer in DynamoDB's JSON protocol, handed to botocore at `before-send` instead
# of moto's: botocore parses it and applies its retry policy to it exactly as it would to AWS's answer (so its
# own retries of throttles are exercised, and its silence on cancelled transactions too). A refused request
# never reaches moto, as a refused request changes nothing on AWS.

# Cancellation reasons of TransactWriteItems (TransactionCanceledException, "Cancellation reason codes"):
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
TRANSACTION_CONFLICT = "TransactionConflict"  # another transaction, or a single write, is on one of its items
THROTTLING_ERROR = "ThrottlingError"  # the table or an index is throttled (on-demand and provisioned alike)
# Single-item calls (UpdateItem, PutItem, DeleteItem) on an item an ongoing transaction holds:
# "TransactionConflictException", https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html
# and "Transaction conflict handling in DynamoDB",
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
TRANSACTION_CONFLICT_EXCEPTION = "TransactionConflictException"
# Reads and writes beyond a table's or an index's capacity ("Throttling issues for DynamoDB",
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingThrottling.html;
# "Error handling with DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html)
PROVISIONED_THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException"
THROTTLING_EXCEPTION = "ThrottlingException"

_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


class _Answer:
    """The body botocore reads from an AWSResponse's `raw`."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _refusal(url: str, code: str, message: str, **extra: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message} | extra)
    headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(url, 400, headers, _Answer(body.encode()))


@dataclass
class DynamoDBWeather:
    """DynamoDB as unkind as AWS, on a real (moto) client: scripted refusals of the next calls of an operation,
    a steady rate of throttling, and conflicts between transactions really in flight at once.

    `script(operation, code, times)` refuses the next `times` calls of an operation: a TransactWriteItems with
    TransactionCanceledException for `code` (TransactionConflict, ThrottlingError) on one of its items, any other
    operation with the exception `code` itself. `overlapping_transactions` cancels a transaction for
    TransactionConflict while another one on one of its items is in flight, and a single write on such an item
    with TransactionConflictException: AWS's own rule (see transaction-conflict-handling above).
    `injected` counts what fired, so a test can assert its faults did.
    """

    overlapping_transactions: bool = False
    throttle_rate: float = 0.0  # a share of every call throttled (reads and writes; ThrottlingError in transactions)
    rng: random.Random = field(default_factory=lambda: random.Random(7))  # noqa: S311 - test randomness
    injected: dict[str, int] = field(default_factory=dict)
    _scripted: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    _in_flight: dict[int, set[str]] = field(default_factory=dict)  # per thread: the items its transaction holds
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, operation: str, code: str, times: int = 1, *, table: str | None = None) -> DynamoDBWeather:
        """Refuse the next `times` calls of `operation` (those on a table whose name contains `table`)."""
        self._scripted.setdefault(operation, []).extend([(code, table)] * times)
        return self

    def attach(self, client: Any) -> DynamoDBWeather:
        events = client.meta.events
        events.register("before-send.dynamodb", self._weather)
        events.register("after-call.dynamodb.TransactWriteItems", self._landed)
        events.register("after-call-error.dynamodb.TransactWriteItems", self._landed)
        return self

    def detach(self, client: Any) -> None:
        events = client.meta.events
        events.unregister("before-send.dynamodb", self._weather)
        events.unregister("after-call.dynamodb.TransactWriteItems", self._landed)
        events.unregister("after-call-error.dynamodb.TransactWriteItems", self._landed)

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def _weather(self, request: Any, **_: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
        body = json.loads(request.body or b"{}")
        with self._lock:
            code = self._next_code(operation, body)
            if code is None and operation == "TransactWriteItems":
                self._in_flight[threading.get_ident()] = _transaction_items(body)
        if code is None:
            return None
        self._count(f"{operation} {code}")
        # In-process moto answers at `before-send` too, and botocore calls every handler before it keeps the first
        # answer: sent on, the refused request would still be carried out there. Made a read, it changes nothing,
        # as a refused request changes nothing on AWS (moto's server never receives it: this answer comes first).
        request.headers["X-Amz-Target"] = "DynamoDB_20120810.ListTables"
        request.body = b"{}"
        if operation == "TransactWriteItems":
            reasons = [{"Code": "None"} for _ in body["TransactItems"]]
            reasons[0] = {"Code": code, "Message": "injected"}
            return _refusal(
                request.url,
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]",
                CancellationReasons=reasons,
            )
        return _refusal(request.url, code, "injected")

    def _next_code(self, operation: str, body: dict[str, Any]) -> str | None:
        scripted = self._scripted.get(operation)
        if scripted:
            code, table = scripted[0]
            tables = [body.get("TableName", "")] + [
                next(iter(e.values()))["TableName"] for e in body.get("TransactItems", [])
            ]
            if table is None or any(table.lower() in name.lower() for name in tables):
                scripted.pop(0)
                return code
        if self.overlapping_transactions:
            busy = set().union(*self._in_flight.values()) if self._in_flight else set()
            if operation == "TransactWriteItems" and _transaction_items(body) & busy:
                return TRANSACTION_CONFLICT
            if operation in _WRITES and _item_of(body) in busy:
                return TRANSACTION_CONFLICT_EXCEPTION
        if self.throttle_rate and self.rng.random() < self.throttle_rate:
            return THROTTLING_ERROR if operation == "TransactWriteItems" else PROVISIONED_THROUGHPUT_EXCEEDED
        return None

    def _landed(self, **_: Any) -> None:
        # A client call is synchronous: the thread that sent a transaction is the one it returns to.
        with self._lock:
            self._in_flight.pop(threading.get_ident(), None)


def _transaction_items(body: dict[str, Any]) -> set[str]:
    items = set()
    for entry in body.get("TransactItems", []):
        ((_, action),) = entry.items()
        items.add(_item_of(action))
    return items


# The key attributes of the project's tables: a Put names its item by these among its attributes.
_KEY_ATTRIBUTES = frozenset({"productId", "orderId", "entry", "id", "pk", "sk", "connectionId"})


def _item_of(action: dict[str, Any]) -> str:
    key = action.get("Key") or {k: v for k, v in action.get("Item", {}).items() if k in _KEY_ATTRIBUTES}
    return f"{action.get('TableName')}:{json.dumps(key, sort_keys=True)}"


@dataclass
class GoneSockets:
    """Sockets closed without $disconnect reaching the app: API Gateway answers a post to one 410 GoneException
    ("Use @connections commands in your backend service",
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html).
    moto keeps whatever is posted to any id, so the answer is handed to botocore at `before-send` instead."""

    connection_ids: set[str]

    def attach(self, client: Any) -> GoneSockets:
        client.meta.events.register("before-send.apigatewaymanagementapi.PostToConnection", self._gone)
        return self

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-send.apigatewaymanagementapi.PostToConnection", self._gone)

    def _gone(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if request.url.rpartition("/")[2] not in self.connection_ids:
            return None
        headers = {"x-amzn-RequestId": "injected", "x-amzn-ErrorType": "GoneException"}
        return AWSResponse(request.url, 410, headers, _Answer(b'{"message": "injected"}'))


@dataclass
class RefusedPosts:
    """API Gateway answering every post with an error of its own: `status` and `error_type` as the Management API
    sends them (403 ForbiddenException, 413 PayloadTooLargeException, 429 LimitExceededException, or a 5xx;
    "PostToConnection", https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/connections-connectionid.html).
    Handed to botocore at `before-send`, so its retry policy applies to it as to AWS's answer."""

    status: int
    error_type: str
    injected: int = 0

    def attach(self, client: Any) -> RefusedPosts:
        client.meta.events.register("before-send.apigatewaymanagementapi.PostToConnection", self._refuse)
        return self

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-send.apigatewaymanagementapi.PostToConnection", self._refuse)

    def _refuse(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        self.injected += 1
        # moto's stubber sees the request after this handler all the same (botocore emits `before-send` to every
        # handler and keeps the first answer): emptied, the post changes nothing there, as a refused post on AWS.
        request.body = b""
        headers = {"x-amzn-RequestId": "injected", "x-amzn-ErrorType": self.error_type}
        return AWSResponse(request.url, self.status, headers, _Answer(b'{"message": "injected"}'))


@dataclass
class BrokenConnections:
    """The network between a function and API Gateway failing under a post: botocore raises EndpointConnectionError
    (no connection), ConnectionClosedError (closed before an answer) or ReadTimeoutError (no answer in time), none of
    them a ClientError, and retries them under its retry policy before the caller sees one ("Retry behavior",
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html: transient errors include
    "connection errors" and timeouts). A post to `connection_ids` (every post when None) fails that way while
    `down`; the failure is raised at `before-send`, where botocore's own HTTP errors arise, so its retries apply."""

    error: type[Exception]
    connection_ids: set[str] | None = None
    down: bool = True
    injected: int = 0

    def attach(self, client: Any) -> BrokenConnections:
        client.meta.events.register("before-send.apigatewaymanagementapi.PostToConnection", self._fail)
        return self

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-send.apigatewaymanagementapi.PostToConnection", self._fail)

    def _fail(self, request: Any, **_: Any) -> None:
        target = request.url.rpartition("/")[2]
        if self.down and (self.connection_ids is None or target in self.connection_ids):
            self.injected += 1
            raise self.error(endpoint_url=request.url, error="injected")


@dataclass
class UnlistableBucket:
    """S3 as it answers a caller not allowed s3:ListBucket: a GetObject of a missing key is 403 AccessDenied, not
    404 NoSuchKey (GetObject, "Permissions": https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
    moto answers NoSuchKey whatever the policy, so the answer for `keys` is handed to botocore at `before-send`."""

    keys: set[str]

    def attach(self, client: Any) -> UnlistableBucket:
        client.meta.events.register("before-send.s3.GetObject", self._denied)
        return self

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-send.s3.GetObject", self._denied)

    def _denied(self, request: Any, **_: Any) -> Any:
        from urllib.parse import unquote, urlsplit

        from botocore.awsrequest import AWSResponse

        if not any(unquote(urlsplit(request.url).path).endswith(f"/{key}") for key in self.keys):
            return None
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        return AWSResponse(request.url, 403, {"x-amz-request-id": "injected"}, _Answer(body))
