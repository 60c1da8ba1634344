"""Status pushes under SQS's delivery: out of order (each outbox item is its own stream partition, and the
status queue's mapping runs several batches at once: "Using Lambda with Amazon SQS", scaling and concurrency,
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html) and more than once (standard queues deliver at least
once: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html).
A browser must never be shown a status older than one it was already shown.

In-process moto: its API Gateway Management API keeps what is posted to a connection, which a test reads back.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.apigatewaymanagementapi.models import Connection as SocketState
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from dropshop.orders.model import OrderStatus
from dropshop.platform import aws
from dropshop.platform.aws import DYNAMODB_ATTEMPTS
from dropshop.platform.bus import DomainEvent
from dropshop.platform.settings import settings
from dropshop.realtime import service as realtime
from dropshop.realtime.model import Connection
from dropshop.realtime.repository import ConnectionRepository
from tests.support import container
from tests.support.events import load_event
from tests.support.faults import (
    PROVISIONED_THROUGHPUT_EXCEEDED,
    BrokenConnections,
    DynamoDBWeather,
    GoneSockets,
    RefusedPosts,
)
from tests.support.properties import budget
from tools.local.lambda_context import LambdaContext
from tools.local.stack import Stack, provision

CUSTOMER = "customer-1"
SOCKET = "socket-1"
CALLBACK = "https://abc123.execute-api.{region}.amazonaws.com/live"


@pytest.fixture(scope="module")
def stack(aws_session: boto3.session.Session) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as environment, mock_aws():
        provisioned = provision(aws_session)
        environment.setenv("CONNECTIONS_TABLE", provisioned.physical["ConnectionsTable"])
        environment.setenv("WEBSOCKET_CALLBACK_URL", CALLBACK.format(region=provisioned.region))
        container.cold_start()
        table = ConnectionRepository(provisioned.client("dynamodb"), provisioned.physical["ConnectionsTable"])
        table.add(Connection(SOCKET, CUSTOMER, "jane", "2026-12-07T00:00:00Z", 2**31, ["customer"]))
        yield provisioned
    container.cold_start()


def sockets(stack: Stack) -> dict[str, SocketState]:
    return apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][stack.region].connections  # type: ignore[no-any-return]


def shown(stack: Stack, socket: str = SOCKET) -> list[str]:
    """The statuses the socket received, in order (moto appends each post's bytes)."""
    data, decoder, statuses = sockets(stack)[socket].data.decode(), json.JSONDecoder(), []
    while data:
        message, end = decoder.raw_decode(data)
        statuses.append(message["status"])
        data = data[end:]
    return statuses


def change(order_id: str, previous: OrderStatus, status: OrderStatus) -> DomainEvent:
    data: dict[str, Any] = {"orderId": order_id, "customerId": CUSTOMER, "previous": previous, "status": status}
    return DomainEvent(type="OrderStatusChanged", source="orders", data=data)


# Every path an order can take, as its status changes.
PATHS = [
    [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
    [OrderStatus.CONFIRMED, OrderStatus.CANCELLED],
    [OrderStatus.CANCELLED],
]


def changes_of(order_id: str, path: list[OrderStatus]) -> list[DomainEvent]:
    previous = [OrderStatus.PLACED, *path[:-1]]
    return [change(order_id, before, after) for before, after in zip(previous, path, strict=True)]


@budget(40)
@given(
    path=st.sampled_from(PATHS),
    deliveries=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=8),
)
def test_reordered_and_repeated_deliveries_never_show_an_older_status(
    stack: Stack, path: list[OrderStatus], deliveries: list[int]
) -> None:
    socket = sockets(stack)[SOCKET] = SocketState()  # the page opens its socket
    changes = changes_of(str(uuid.uuid4()), path)
    delivered = [changes[i % len(changes)] for i in deliveries]
    for event in delivered:
        realtime.push_order_status(event)
    statuses = shown(stack)
    stages = [path.index(OrderStatus(status)) for status in statuses]
    assert stages == sorted(set(stages)), statuses  # each status once, and never after a later one
    assert statuses[0] == delivered[0].data["status"]  # the first delivery is always shown
    assert socket.data


def test_confirmed_delivered_after_shipped_is_dropped_and_a_repeat_is_shown_once(stack: Stack) -> None:
    sockets(stack)[SOCKET] = SocketState()
    confirmed, shipped, delivered = changes_of(str(uuid.uuid4()), PATHS[0])
    for event in [shipped, confirmed, shipped, delivered, confirmed, delivered]:
        realtime.push_order_status(event)
    assert shown(stack) == ["SHIPPED", "DELIVERED"]


def test_a_push_whose_audience_read_is_throttled_is_shown_on_redelivery(stack: Stack) -> None:
    """The audience read throttled past botocore's retries ("Throttling issues for DynamoDB",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingThrottling.html) fails the
    invocation; SQS delivers the message again, and that delivery must still reach the socket."""
    sockets(stack)[SOCKET] = SocketState()
    (cancelled,) = changes_of(str(uuid.uuid4()), PATHS[2])
    client = aws.client("dynamodb")
    weather = DynamoDBWeather().script("Query", PROVISIONED_THROUGHPUT_EXCEEDED, times=DYNAMODB_ATTEMPTS).attach(client)
    try:
        with pytest.raises(ClientError):
            realtime.push_order_status(cancelled)
    finally:
        weather.detach(client)
    assert weather.injected == {f"Query {PROVISIONED_THROUGHPUT_EXCEEDED}": DYNAMODB_ATTEMPTS}
    realtime.push_order_status(cancelled)  # SQS's redelivery
    assert shown(stack) == ["CANCELLED"]


def test_a_gone_socket_whose_removal_is_throttled_does_not_keep_the_push_from_the_others(stack: Stack) -> None:
    """Removing a gone socket is throttled past botocore's retries: the invocation fails after the stage is recorded
    (its redelivery is dropped as stale), so every open socket must have been sent the change by then."""
    owner, gone, open_ = "customer-2", "a-gone-socket", "b-open-socket"  # the gone one is sent to first
    table = ConnectionRepository(aws.client("dynamodb"), stack.physical["ConnectionsTable"])
    for socket_id in (gone, open_):
        table.add(Connection(socket_id, owner, "joe", "2026-12-07T00:00:00Z", 2**31, ["customer"]))
    sockets(stack)[open_] = SocketState()
    data: dict[str, Any] = {
        "orderId": str(uuid.uuid4()),
        "customerId": owner,
        "previous": OrderStatus.PLACED,
        "status": OrderStatus.CANCELLED,
    }
    cancelled = DomainEvent(type="OrderStatusChanged", source="orders", data=data)
    dynamodb = aws.client("dynamodb")
    management_api = aws.client("apigatewaymanagementapi", endpoint_url=settings().websocket_callback_url)
    weather = DynamoDBWeather().script("DeleteItem", PROVISIONED_THROUGHPUT_EXCEEDED, times=DYNAMODB_ATTEMPTS)
    weather.attach(dynamodb)
    gone_sockets = GoneSockets({gone}).attach(management_api)
    try:
        with pytest.raises(ClientError):
            realtime.push_order_status(cancelled)
    finally:
        weather.detach(dynamodb)
        gone_sockets.detach(management_api)
    assert weather.injected == {f"DeleteItem {PROVISIONED_THROUGHPUT_EXCEEDED}": DYNAMODB_ATTEMPTS}
    received = sockets(stack)[open_].data
    assert received, "the open socket was never sent the change"
    assert json.loads(received)["status"] == "CANCELLED"


# What botocore raises when the network fails under a post (none is a ClientError), after its own retries.
NETWORK_ERRORS = [EndpointConnectionError, ConnectionClosedError, ReadTimeoutError]


def management_api() -> Any:
    return aws.client("apigatewaymanagementapi", endpoint_url=settings().websocket_callback_url)


def open_sockets(owner: str, *socket_ids: str) -> None:
    table = ConnectionRepository(aws.client("dynamodb"), settings().connections_table)
    for socket_id in socket_ids:
        table.add(Connection(socket_id, owner, owner, "2026-12-07T00:00:00Z", 2**31, ["customer"]))


@pytest.fixture
def without_botocore_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Posts tried once: botocore's retry of a post the network fails (backing off for up to a second) would only
    slow down each failed push of a property test. DynamoDB's client keeps its own retries."""
    monkeypatch.setattr(aws, "PUSH_RETRIES", {"mode": "standard", "total_max_attempts": 1})
    aws.client.cache_clear()
    yield
    aws.client.cache_clear()


@pytest.mark.parametrize("error", NETWORK_ERRORS)
def test_a_push_the_network_fails_is_shown_on_redelivery(stack: Stack, error: type[Exception]) -> None:
    """The post fails past botocore's retries: the invocation fails, SQS delivers the message again (at least once:
    the batch item failure makes it visible again after the visibility timeout), and that delivery must reach the
    socket rather than find the change already pushed."""
    sockets(stack)[SOCKET] = SocketState()
    (cancelled,) = changes_of(str(uuid.uuid4()), PATHS[2])
    api = management_api()
    outage = BrokenConnections(error).attach(api)
    try:
        with pytest.raises(realtime.PushInterrupted):
            realtime.push_order_status(cancelled)
    finally:
        outage.detach(api)
    assert outage.injected == aws.PUSH_RETRIES["total_max_attempts"] == 2  # botocore retried once, then gave up
    realtime.push_order_status(cancelled)  # SQS's redelivery
    assert shown(stack) == ["CANCELLED"]


# API Gateway's own errors: failing or throttling for now (retried by botocore, then by SQS's redelivery), or
# refusing for good (not retried: the page's next `subscribe` catches up).
TRANSIENT_REFUSALS = [
    (500, "InternalServerErrorException"),
    (503, "ServiceUnavailable"),
    (429, "LimitExceededException"),
]
FINAL_REFUSALS = [(403, "ForbiddenException"), (413, "PayloadTooLargeException"), (400, "BadRequestException")]


@pytest.mark.parametrize(("status", "error_type"), TRANSIENT_REFUSALS)
def test_a_push_api_gateway_fails_or_throttles_is_shown_on_redelivery(
    stack: Stack, without_botocore_retries: None, status: int, error_type: str
) -> None:
    sockets(stack)[SOCKET] = SocketState()
    (cancelled,) = changes_of(str(uuid.uuid4()), PATHS[2])
    api = management_api()
    refusals = RefusedPosts(status, error_type).attach(api)
    try:
        with pytest.raises(realtime.PushInterrupted):
            realtime.push_order_status(cancelled)
    finally:
        refusals.detach(api)
    assert refusals.injected == 1
    realtime.push_order_status(cancelled)  # SQS's redelivery
    assert shown(stack) == ["CANCELLED"]


@pytest.mark.parametrize(("status", "error_type"), FINAL_REFUSALS)
def test_a_push_api_gateway_refuses_for_good_is_not_retried(
    stack: Stack, without_botocore_retries: None, status: int, error_type: str
) -> None:
    sockets(stack)[SOCKET] = SocketState()
    (cancelled,) = changes_of(str(uuid.uuid4()), PATHS[2])
    api = management_api()
    refusals = RefusedPosts(status, error_type).attach(api)
    try:
        assert realtime.push_order_status(cancelled) == 0  # no PushInterrupted: the message is acknowledged
    finally:
        refusals.detach(api)
    realtime.push_order_status(cancelled)  # a duplicate delivery finds the push complete
    assert shown(stack) == []


def test_a_redelivery_resends_only_to_the_sockets_the_network_failed(
    stack: Stack, without_botocore_retries: None
) -> None:
    owner, reached, cut_off = "customer-3", "a-reached", "b-cut-off"
    open_sockets(owner, reached, cut_off)
    sockets(stack)[reached], sockets(stack)[cut_off] = SocketState(), SocketState()
    data: dict[str, Any] = {"orderId": str(uuid.uuid4()), "customerId": owner, "status": OrderStatus.CANCELLED}
    cancelled = DomainEvent(type="OrderStatusChanged", source="orders", data=data | {"previous": OrderStatus.PLACED})
    api = management_api()
    outage = BrokenConnections(EndpointConnectionError, {cut_off}).attach(api)
    try:
        with pytest.raises(realtime.PushInterrupted):
            realtime.push_order_status(cancelled)
    finally:
        outage.detach(api)
    assert (shown(stack, reached), shown(stack, cut_off)) == (["CANCELLED"], [])
    realtime.push_order_status(cancelled)  # SQS's redelivery
    assert (shown(stack, reached), shown(stack, cut_off)) == (["CANCELLED"], ["CANCELLED"])
    realtime.push_order_status(cancelled)  # and a duplicate of it, once the push is complete
    assert (shown(stack, reached), shown(stack, cut_off)) == (["CANCELLED"], ["CANCELLED"])


def test_a_change_overtaken_while_its_push_failed_is_dropped_on_redelivery(
    stack: Stack, without_botocore_retries: None
) -> None:
    sockets(stack)[SOCKET] = SocketState()
    confirmed, shipped, _ = changes_of(str(uuid.uuid4()), PATHS[0])
    api = management_api()
    outage = BrokenConnections(ReadTimeoutError).attach(api)
    try:
        with pytest.raises(realtime.PushInterrupted):
            realtime.push_order_status(confirmed)
        outage.down = False
        realtime.push_order_status(shipped)
        realtime.push_order_status(confirmed)  # SQS's redelivery, after the later change was shown
    finally:
        outage.detach(api)
    assert shown(stack) == ["SHIPPED"]


@budget(40)
@given(
    path=st.sampled_from(PATHS),
    deliveries=st.lists(st.tuples(st.integers(min_value=0, max_value=2), st.booleans()), min_size=1, max_size=8),
)
def test_under_network_failures_and_redeliveries_the_newest_change_is_shown_and_nothing_goes_back(
    stack: Stack, without_botocore_retries: None, path: list[OrderStatus], deliveries: list[tuple[int, bool]]
) -> None:
    """SQS's at-least-once delivery with a network that fails some posts: each delivery (a change, and whether the
    network fails its post) is tried; a failed one comes back later, as SQS redelivers a failed batch item."""
    sockets(stack)[SOCKET] = SocketState()
    changes = changes_of(str(uuid.uuid4()), path)
    queue = [(changes[i % len(changes)], fails) for i, fails in deliveries]
    api = management_api()
    outage = BrokenConnections(EndpointConnectionError).attach(api)
    try:
        while queue:
            event, outage.down = queue.pop(0)
            try:
                realtime.push_order_status(event)
            except realtime.PushInterrupted:
                queue.append((event, False))
    finally:
        outage.detach(api)
    statuses = shown(stack)
    stages = [path.index(OrderStatus(status)) for status in statuses]
    assert stages == sorted(set(stages)), statuses  # each status once, and never after a later one
    newest = max((changes[i % len(changes)] for i, _ in deliveries), key=lambda e: path.index(e.data["status"]))
    assert statuses[-1:] == [newest.data["status"]]  # the newest change delivered is what the page shows last


def test_a_stalled_post_gives_up_within_the_push_functions_timeout(stack: Stack) -> None:
    """botocore waits 60 s to connect and 60 s to read by default: one unreachable endpoint would outlive the 30 s
    function. Two attempts of at most 2 s + 3 s each bound one post; the push stops at the deadline (below)."""
    config = management_api().meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 3)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


@dataclass
class StallingContext(LambdaContext):
    """The push function's context (its Timeout from template.yaml, counted down in real time as Lambda counts it),
    less what each post the network stalled would have cost had it waited out the client's connect and read timeouts
    (the fault raises at once). Below zero when a run returns, Lambda would have ended it before."""

    stalls: BrokenConnections | None = None

    def get_remaining_time_in_millis(self) -> int:
        config = management_api().meta.config
        stalls = self.stalls.injected if self.stalls else 0
        return super().get_remaining_time_in_millis() - stalls * (config.connect_timeout + config.read_timeout) * 1000


def push_context(stack: Stack, stalls: BrokenConnections | None = None) -> StallingContext:
    return StallingContext(timeout_seconds=stack.timeout("StatusPushFunction"), stalls=stalls)


def sqs_batch(*events: DomainEvent) -> dict[str, Any]:
    """StatusPushQueue's batch of these changes, as the event source mapping hands it to the function."""
    (sample,) = load_event("status_push/status-changed", SUB=CUSTOMER)["Records"]
    return {"Records": [sample | {"messageId": e.id, "body": e.to_json()} for e in events]}


def received_orders(stack: Stack, socket: str) -> list[str]:
    data, decoder, orders = sockets(stack)[socket].data.decode(), json.JSONDecoder(), []
    while data:
        message, end = decoder.raw_decode(data)
        orders.append(message["orderId"])
        data = data[end:]
    return sorted(orders)


def push_batch(stack: Stack, batch: dict[str, Any], context: LambdaContext) -> list[str]:
    """The batch through the push function's handler: the ids of the records it reports failed."""
    app = importlib.import_module("handlers.status_push.app")
    response = app.lambda_handler(batch, context)
    return sorted(failure["itemIdentifier"] for failure in response["batchItemFailures"])


def cancellation(owner: str) -> DomainEvent:
    data: dict[str, Any] = {"orderId": str(uuid.uuid4()), "customerId": owner, "status": OrderStatus.CANCELLED}
    return DomainEvent(type="OrderStatusChanged", source="orders", data=data | {"previous": OrderStatus.PLACED})


def test_a_batch_of_ten_changes_each_with_a_stalled_socket_ends_within_the_timeout_and_owes_the_rest(
    stack: Stack,
) -> None:
    """Each change costs a stalled socket's two attempts of 2 s + 3 s: ten outlive the function's 30 s, and a run
    Lambda ends records nothing it owes. The function stops posting while it can still say so: the records it
    could not finish, or start, are reported failed, and their redelivery reaches every socket once."""
    owner, stalled, open_ = "customer-10", "a-stalled", "b-open"
    open_sockets(owner, stalled, open_)
    sockets(stack)[stalled], sockets(stack)[open_] = SocketState(), SocketState()
    changes = [cancellation(owner) for _ in range(10)]
    api = management_api()
    outage = BrokenConnections(ReadTimeoutError, {stalled}).attach(api)
    context = push_context(stack, outage)
    try:
        failed = push_batch(stack, sqs_batch(*changes), context)
    finally:
        outage.detach(api)
    left = context.get_remaining_time_in_millis()
    assert left >= 0, f"the run outlived the function's timeout by {-left} ms"
    assert failed == sorted(change.id for change in changes)  # none complete: each owes the stalled socket
    assert outage.injected < 2 * len(changes)  # not every record was started
    again = [change for change in changes if change.id in failed]
    assert push_batch(stack, sqs_batch(*again), push_context(stack)) == []  # SQS's redelivery, the network back
    every_order = sorted(change.data["orderId"] for change in changes)
    assert (received_orders(stack, stalled), received_orders(stack, open_)) == (every_order, every_order)


def test_one_change_with_three_stalled_sockets_ends_within_the_timeout_and_owes_the_sockets_not_tried(
    stack: Stack,
) -> None:
    owner = "customer-11"
    stalled, reached = {"a-stalled", "c-stalled", "d-stalled"}, {"b-open", "e-open"}
    open_sockets(owner, *stalled, *reached)
    for socket in stalled | reached:
        sockets(stack)[socket] = SocketState()
    change = cancellation(owner)
    api = management_api()
    outage = BrokenConnections(ConnectionClosedError, stalled).attach(api)
    context = push_context(stack, outage)
    try:
        failed = push_batch(stack, sqs_batch(change), context)
    finally:
        outage.detach(api)
    left = context.get_remaining_time_in_millis()
    assert left >= 0, f"the run outlived the function's timeout by {-left} ms"
    assert failed == [change.id]
    assert push_batch(stack, sqs_batch(change), push_context(stack)) == []  # SQS's redelivery, the network back
    # Each socket shown the change once: the redelivery posted only to the sockets the first run owed.
    assert {socket: received_orders(stack, socket) for socket in stalled | reached} == {
        socket: [change.data["orderId"]] for socket in stalled | reached
    }
