"""Use cases of real time: accept signed-in sockets, answer subscriptions, push order changes to owners."""

from __future__ import annotations

import time

from dropshop.identity import service as identity
from dropshop.orders import service as orders
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.clock import now_iso
from dropshop.platform.errors import Unauthenticated
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings
from dropshop.realtime.channel import Channel
from dropshop.realtime.model import CONNECTION_LIFETIME_SECONDS, Connection, OrderStatusMessage, Subscribe
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
    """The order's status now, for its owner or an admin: what a page shows until the next push arrives."""
    connection = _connections().get(connection_id)
    if connection is None:
        raise Unauthenticated("this connection was not accepted; connect again", field="connectionId")
    caller = connection.principal
    order = orders.get_order(request.order_id, caller=caller, may_read_any=identity.may(caller, "orders:read:any"))
    return OrderStatusMessage(order_id=order.order_id, status=order.status.value, at=order.updated_at)


def push_order_status(event: DomainEvent) -> int:
    """Send the change to every open socket of the order's owner; sockets that are gone are forgotten.
    Returns how many received it."""
    message = OrderStatusMessage.from_event(event.data, at=event.occurred_at).to_json()
    connections, channel = _connections(), _channel()
    delivered = 0
    for connection_id in connections.for_user(event.data["customerId"]):
        if channel.send(connection_id, message):
            delivered += 1
        else:
            connections.remove(connection_id)
            metrics.add_metric(name="StaleSocketsRemoved", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="StatusPushes", unit=MetricUnit.Count, value=delivered)
    logger.info("order status pushed", extra={"orderId": event.data["orderId"], "sockets": delivered})
    return delivered
