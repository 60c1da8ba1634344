"""ConnectionsTable: per open WebSocket (pk connectionId), its `connection` item and an `order#<orderId>` item
for each order it subscribed to. byUser finds a user's sockets; byOrder finds an order's subscribers. Per order
pushed, one more item (pk `pushed#<orderId>`, entry `pushed`) holds the life-cycle stage last pushed; it has
neither userId nor orderId, so neither index sees it."""

from __future__ import annotations

from typing import Any

from dropshop.platform.dynamodb import retry_transient
from dropshop.realtime.model import Connection

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

    def advance_pushed(self, order_id: str, stage: int, *, expires_at: int) -> bool:
        """Record that the order's status at `stage` is being pushed; False when that stage or a later one was
        pushed already (a late or repeated delivery), and nothing is recorded."""
        try:
            retry_transient(
                lambda: self._dynamodb.update_item(
                    TableName=self._table,
                    Key=_key(f"{PUSHED_PREFIX}{order_id}", PUSHED_ENTRY),
                    UpdateExpression="SET stage = :stage, expiresAt = :expires",
                    ConditionExpression="attribute_not_exists(stage) OR stage < :stage",
                    ExpressionAttributeValues={":stage": {"N": str(stage)}, ":expires": {"N": str(expires_at)}},
                )
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

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


def _connection(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["connectionId"]["S"],
        user_id=item["userId"]["S"],
        username=item["username"]["S"],
        groups=[group["S"] for group in item.get("groups", {}).get("L", [])],
        connected_at=item["connectedAt"]["S"],
        expires_at=int(item["expiresAt"]["N"]),
    )
