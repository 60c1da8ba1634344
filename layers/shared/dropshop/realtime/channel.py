"""Pushes to open WebSockets through the API Gateway Management API (POST @connections/{id})."""

from __future__ import annotations

from enum import Enum
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NetworkError

from dropshop.platform.observability import logger


class Delivery(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # closed without $disconnect reaching us: forget it
    INTERRUPTED = "interrupted"  # the network failed the post past botocore's retries: the socket may take it later
    FAILED = "failed"  # refused (throttled, forbidden, too large): this push is lost, the socket stays


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
        # No connection, a connection closed before the answer, a read timeout: none is a ClientError, and whether
        # API Gateway delivered the message is unknown (a read timeout may come after it did).
        except (NetworkError, HTTPClientError) as error:
            logger.warning("push interrupted", extra={"connectionId": connection_id, "error": str(error)})
            return Delivery.INTERRUPTED
        return Delivery.DELIVERED
