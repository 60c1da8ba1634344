"""Use cases of real time: accept signed-in sockets, let them follow orders, push each change of an order
to its owner's sockets and to the sockets that follow it."""

from __future__ import annotations

import time
from collections.abc import Callable

from dropshop.identity import service as identity
from dropshop.orders import service as orders
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.clock import now_iso
from dropshop.platform.errors import Unauthenticated
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings
from dropshop.realtime.channel import Channel, Delivery
from dropshop.realtime.model import (
    CONNECTION_LIFETIME_SECONDS,
    PUSHED_LIFETIME_SECONDS,
    Connection,
    OrderStatusMessage,
    Subscribe,
)
from dropshop.realtime.repository import ConnectionRepository


def _connections() -> ConnectionRepository:
    return ConnectionRepository(aws.client("dynamodb"), settings().connections_table)


def _channel() -> Channel:
    return Channel(aws.client("apigatewaymanagementapi", endpoint_url=settings().websocket_callback_url))


def connect(connection_id: str, token: str | None) -> Connection:
    """Accept the socket of a signed-in user (the ID token comes as the `token` query parameter: browsers
    cannot set headers on a WebSocket); Unauthenticated refuses it."""
    principal = identity.authenticate(token)
    connection = Connection(
        connection_id=connection_id,
        user_id=principal.user_id,
        username=principal.username,
        groups=principal.groups,
        connected_at=now_iso(),
        expires_at=int(time.time()) + CONNECTION_LIFETIME_SECONDS,
    )
    _connections().add(connection)
    metrics.add_metric(name="SocketsConnected", unit=MetricUnit.Count, value=1)
    return connection


def disconnect(connection_id: str) -> None:
    _connections().remove(connection_id)


def subscribe(connection_id: str, request: Subscribe) -> OrderStatusMessage:
    """Follow an order (its owner, or an admin): the answer is its status now, then every change is pushed.
    The owner's sockets hear about all their orders anyway; subscribing closes the gap since page load."""
    connections = _connections()
    connection = connections.get(connection_id)
    if connection is None:
        raise Unauthenticated("this connection was not accepted; connect again", field="connectionId")
    caller = connection.principal
    order = orders.get_order(request.order_id, caller=caller, may_read_any=identity.may(caller, "orders:read:any"))
    connections.subscribe(connection, order.order_id)
    return OrderStatusMessage(
        order_id=order.order_id,
        status=order.status.value,
        at=order.updated_at,
        stage=orders.life_cycle_stage(order.status),
    )


# What the writes after the posts may take (settling the push, forgetting gone sockets: DynamoDB calls that
# botocore may retry with backoff), kept free of posts so a push cut short still records what it owes.
SETTLE_SECONDS = 3


class PushInterrupted(Exception):
    """The network (or API Gateway, with a 5xx or a throttle) failed posts of a change to some sockets, or the
    invocation's time ran short before them: the message comes back (SQS's redelivery of a failed batch item) and is
    pushed to those sockets."""


def push_order_status(event: DomainEvent, *, remaining_ms: Callable[[], int] | None = None) -> int:
    """Send the change to the owner's open sockets and the order's subscribers; sockets that are gone are
    forgotten. A push API Gateway refuses for good (forbidden, too large) is logged and counted, and the page's
    next `subscribe` catches up; a push the network cut short, or API Gateway failed (5xx) or throttled (429) past
    botocore's retries, raises PushInterrupted, so SQS delivers the change again. Returns how many sockets received it.

    Status changes reach this function out of order (each outbox item is its own stream partition, and SQS runs
    several batches at once) and more than once: a change whose life-cycle stage was pushed already, or overtaken
    by a later one, is dropped, so no socket is shown a status older than one it was pushed. The stage is claimed
    before the posts (so two changes cannot both pass) and the push completed after them: until then, a
    redelivery of the same change pushes it again, to the sockets the failed attempt did not reach when it
    could record them, to all of them when it was cut off before (a socket may then get the same status twice).

    `remaining_ms` (the Lambda context's get_remaining_time_in_millis) keeps the push within the invocation: a post
    starts only while its worst case and the writes after it fit in the time left; the sockets not yet posted to are
    then owed, as if the network had failed them, and a change that cannot start is left for its redelivery."""
    if not _time_for_a_post(remaining_ms):
        raise PushInterrupted(f"too little time left to push {event.id}: left for its redelivery")
    order_id, stage = event.data["orderId"], orders.life_cycle_stage(event.data["status"])
    connections, channel = _connections(), _channel()
    # Reading the audience can fail the invocation (a throttle): before the claim, the redelivery pushes the change
    # as if for the first time.
    audience = connections.audience(event.data["customerId"], order_id)
    expires_at = int(time.time()) + PUSHED_LIFETIME_SECONDS
    claim = connections.claim_push(order_id, stage, event.id, expires_at=expires_at)
    if claim is None:
        metrics.add_metric(name="StalePushesDropped", unit=MetricUnit.Count, value=1)
        logger.info("status change older than one pushed", extra={"orderId": order_id, "stage": stage})
        return 0
    message = OrderStatusMessage.from_event(event.data, at=event.occurred_at, stage=stage).to_json()
    delivered, gone, interrupted, untried = 0, [], set(), []
    recipients = claim.recipients(audience)
    for index, connection_id in enumerate(recipients):
        if not _time_for_a_post(remaining_ms):
            untried = recipients[index:]
            interrupted.update(untried)
            break
        outcome = channel.send(connection_id, message)
        if outcome is Delivery.DELIVERED:
            delivered += 1
        elif outcome is Delivery.GONE:
            gone.append(connection_id)
        elif outcome is Delivery.INTERRUPTED:
            interrupted.add(connection_id)
        else:
            metrics.add_metric(name="StatusPushesFailed", unit=MetricUnit.Count, value=1)
    # Settled before forgetting gone sockets: if that fails (throttled), the rows expire with their TTL, and the
    # redelivery finds the push settled.
    if interrupted:
        connections.owe_push(order_id, event.id, interrupted)
    else:
        connections.complete_push(order_id, event.id)
    for connection_id in gone:
        connections.remove(connection_id)
        metrics.add_metric(name="StaleSocketsRemoved", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="StatusPushes", unit=MetricUnit.Count, value=delivered)
    if interrupted:
        raise PushInterrupted(
            f"the push of {order_id}'s {event.data['status']} is owed to {len(interrupted)} socket(s),"
            f" {len(untried)} of them not tried for lack of time"
        )
    logger.info("order status pushed", extra={"orderId": order_id, "sockets": delivered})
    return delivered


def _time_for_a_post(remaining_ms: Callable[[], int] | None) -> bool:
    return remaining_ms is None or remaining_ms() >= (aws.PUSH_POST_WORST_SECONDS + SETTLE_SECONDS) * 1000
