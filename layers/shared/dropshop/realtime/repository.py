"""ConnectionsTable: per open WebSocket (pk connectionId), its `connection` item and an `order#<orderId>` item
for each order it subscribed to. byUser finds a user's sockets; byOrder finds an order's subscribers. Per order
pushed, one more item (pk `pushed#<orderId>`, entry `pushed`) holds the life-cycle stage last pushed (`stage`), the
change whose push is under way until it completes (`pushing`, an event id) and the sockets a push the network cut
short still owes (`owed`); it has neither userId nor orderId, so neither index sees it."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from dropshop.platform.dynamodb import retry_transient
from dropshop.realtime.model import Connection, PushClaim

CONNECTION_ENTRY = "connection"
ORDER_PREFIX = "order#"
PUSHED_PREFIX = "pushed#"
PUSHED_ENTRY = "pushed"


class ConnectionRepository:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def add(self, connection: Connection) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item=_key(connection.connection_id, CONNECTION_ENTRY)
            | {
                "userId": {"S": connection.user_id},
                "username": {"S": connection.username},
                "groups": {"L": [{"S": group} for group in connection.groups]},
                "connectedAt": {"S": connection.connected_at},
                "expiresAt": {"N": str(connection.expires_at)},
            },
        )

    def subscribe(self, connection: Connection, order_id: str) -> None:
        """Follow the order for as long as the connection lives (putting it twice is harmless)."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item=_key(connection.connection_id, f"{ORDER_PREFIX}{order_id}")
            | {"orderId": {"S": order_id}, "expiresAt": {"N": str(connection.expires_at)}},
        )

    def claim_push(self, order_id: str, stage: int, event_id: str, *, expires_at: int) -> PushClaim | None:
        """Record that the order's change `event_id` at `stage` is being pushed. None when that stage or a later one
        was pushed or is being pushed already (a late or repeated delivery, or another change of the same stage), and
        nothing is recorded. A change whose push did not complete (the network failed a post, the run was cut off)
        is claimed again by its redelivery, with the sockets the failed attempt still owed when it could say so."""
        try:
            answer = retry_transient(
                lambda: self._dynamodb.update_item(
                    TableName=self._table,
                    Key=_pushed_key(order_id),
                    UpdateExpression="SET stage = :stage, pushing = :event, expiresAt = :expires REMOVE owed",
                    ConditionExpression=(
                        "attribute_not_exists(stage) OR stage < :stage OR (stage = :stage AND pushing = :event)"
                    ),
                    ExpressionAttributeValues={
                        ":stage": {"N": str(stage)},
                        ":event": {"S": event_id},
                        ":expires": {"N": str(expires_at)},
                    },
                    ReturnValues="ALL_OLD",
                )
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        before = answer.get("Attributes", {})
        if before.get("pushing", {}).get("S") != event_id or "owed" not in before:
            return PushClaim()
        return PushClaim(owed=frozenset(before["owed"]["SS"]))

    def owe_push(self, order_id: str, event_id: str, connection_ids: set[str]) -> None:
        """The push of `event_id` reached every socket but these: its redelivery sends to them alone."""
        self._settle_push(order_id, event_id, "SET owed = :owed", {":owed": {"SS": sorted(connection_ids)}})

    def complete_push(self, order_id: str, event_id: str) -> None:
        """The push of `event_id` reached every socket it could: a redelivery of that change is dropped."""
        self._settle_push(order_id, event_id, "REMOVE pushing", {})

    def _settle_push(self, order_id: str, event_id: str, update: str, values: dict[str, Any]) -> None:
        # A later change of the order claimed it meanwhile: what this one owed, it owes no more.
        with suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            retry_transient(
                lambda: self._dynamodb.update_item(
                    TableName=self._table,
                    Key=_pushed_key(order_id),
                    UpdateExpression=update,
                    ConditionExpression="pushing = :event",
                    ExpressionAttributeValues={":event": {"S": event_id}} | values,
                )
            )

    def get(self, connection_id: str) -> Connection | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_key(connection_id, CONNECTION_ENTRY), ConsistentRead=True
        ).get("Item")
        return _connection(item) if item else None

    def remove(self, connection_id: str) -> None:
        """Forget the connection and its subscriptions."""
        for entry in self._query("connectionId", connection_id, index=None, attribute="entry"):
            self._dynamodb.delete_item(TableName=self._table, Key=_key(connection_id, entry))

    def audience(self, user_id: str, order_id: str) -> set[str]:
        """The connections to tell about a change of the order: its owner's and its subscribers'."""
        return set(self._query("userId", user_id, index="byUser")) | set(
            self._query("orderId", order_id, index="byOrder")
        )

    def _query(self, key: str, value: str, *, index: str | None, attribute: str = "connectionId") -> list[str]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": f"{key} = :value",
            "ExpressionAttributeValues": {":value": {"S": value}},
        }
        if index:
            request["IndexName"] = index
        pages = self._dynamodb.get_paginator("query").paginate(**request)
        return [item[attribute]["S"] for page in pages for item in page.get("Items", [])]


def _key(connection_id: str, entry: str) -> dict[str, Any]:
    return {"connectionId": {"S": connection_id}, "entry": {"S": entry}}


def _pushed_key(order_id: str) -> dict[str, Any]:
    return _key(f"{PUSHED_PREFIX}{order_id}", PUSHED_ENTRY)


def _connection(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["connectionId"]["S"],
        user_id=item["userId"]["S"],
        username=item["username"]["S"],
        groups=[group["S"] for group in item.get("groups", {}).get("L", [])],
        connected_at=item["connectedAt"]["S"],
        expires_at=int(item["expiresAt"]["N"]),
    )
