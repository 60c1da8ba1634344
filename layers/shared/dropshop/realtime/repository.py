"""ConnectionsTable: one item per open WebSocket (pk connectionId), the byUser index finds a user's sockets."""

from __future__ import annotations

from typing import Any

from dropshop.realtime.model import Connection


class ConnectionRepository:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def add(self, connection: Connection) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "connectionId": {"S": connection.connection_id},
                "userId": {"S": connection.user_id},
                "username": {"S": connection.username},
                "groups": {"L": [{"S": group} for group in connection.groups]},
                "connectedAt": {"S": connection.connected_at},
                "expiresAt": {"N": str(connection.expires_at)},
            },
        )

    def remove(self, connection_id: str) -> None:
        self._dynamodb.delete_item(TableName=self._table, Key={"connectionId": {"S": connection_id}})

    def get(self, connection_id: str) -> Connection | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"connectionId": {"S": connection_id}}, ConsistentRead=True
        ).get("Item")
        return _connection(item) if item else None

    def for_user(self, user_id: str) -> list[str]:
        """The ids of the user's open connections (the index projects keys only: that is all a push needs)."""
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "byUser",
            "KeyConditionExpression": "userId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
        }
        while True:
            page = self._dynamodb.query(**request)
            ids += [item["connectionId"]["S"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return ids
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _connection(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["connectionId"]["S"],
        user_id=item["userId"]["S"],
        username=item["username"]["S"],
        groups=[group["S"] for group in item.get("groups", {}).get("L", [])],
        connected_at=item["connectedAt"]["S"],
        expires_at=int(item["expiresAt"]["N"]),
    )
