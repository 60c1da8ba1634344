"""Pushes to open WebSockets through the API Gateway Management API (POST @connections/{id})."""

from __future__ import annotations

from typing import Any


class Channel:
    def __init__(self, management_api: Any) -> None:
        self._api = management_api

    def send(self, connection_id: str, message: str) -> bool:
        """True when delivered; False when the connection is gone (closed without $disconnect reaching us)."""
        try:
            self._api.post_to_connection(ConnectionId=connection_id, Data=message.encode())
        except self._api.exceptions.GoneException:
            return False
        return True
