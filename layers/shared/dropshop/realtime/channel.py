"""Pushes to open WebSockets through the API Gateway Management API (POST @connections/{id})."""

from __future__ import annotations

from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from dropshop.platform.observability import logger


class Delivery(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # closed without $disconnect reaching us: forget it
    FAILED = "failed"  # throttled or refused: this push is lost, the socket stays


class Channel:
    def __init__(self, management_api: Any) -> None:
        self._api = management_api

    def send(self, connection_id: str, message: str) -> Delivery:
        try:
            self._api.post_to_connection(ConnectionId=connection_id, Data=message.encode())
        except self._api.exceptions.GoneException:
            return Delivery.GONE
        except ClientError as error:
            logger.warning("push failed", extra={"connectionId": connection_id, "error": str(error)})
            return Delivery.FAILED
        return Delivery.DELIVERED
