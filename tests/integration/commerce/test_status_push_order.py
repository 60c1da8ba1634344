"""Status pushes under SQS's delivery: out of order (each outbox item is its own stream partition, and the
status queue's mapping runs several batches at once: "Using Lambda with Amazon SQS", scaling and concurrency,
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html) and more than once (standard queues deliver at least
once: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html).
A browser must never be shown a status older than one it was already shown.

In-process moto: its API Gateway Management API keeps what is posted to a connection, which a test reads back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
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
from tests.support.faults import PROVISIONED_THROUGHPUT_EXCEEDED, DynamoDBWeather, GoneSockets
from tests.support.properties import budget
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


def shown(stack: Stack) -> list[str]:
    """The statuses the socket received, in order (moto appends each post's bytes)."""
    data, decoder, statuses = sockets(stack)[SOCKET].data.decode(), json.JSONDecoder(), []
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
