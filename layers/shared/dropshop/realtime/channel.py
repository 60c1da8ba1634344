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
    # The network, a 5xx or a throttle failed the post past botocore's retries: the socket may take it later.
    INTERRUPTED = "interrupted"
    FAILED = "failed"  # refused for good (forbidden, too large, malformed): this push is lost, the socket stays


# Refusals that say "not now" rather than "never": API Gateway throttled the post (429 LimitExceededException;
# "PostToConnection", https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/connections-connectionid.html)
# or failed it itself (5xx), both transient in botocore's retry policy ("Retry behavior",
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html), so retried there first.
_TRANSIENT_CODES = frozenset({"LimitExceededException", "TooManyRequestsException", "ThrottlingException"})


class Channel:
    def __init__(self, management_api: Any) -> None:
        self._api = management_api

    def send(self, connection_id: str, message: str) -> Delivery:
        try:
            self._api.post_to_connection(ConnectionId=connection_id, Data=message.encode())
        except self._api.exceptions.GoneException:
            return Delivery.GONE
        except ClientError as error:
            if _transient(error):
                logger.warning("push interrupted", extra={"connectionId": connection_id, "error": str(error)})
                return Delivery.INTERRUPTED
            logger.warning("push failed", extra={"connectionId": connection_id, "error": str(error)})
            return Delivery.FAILED
        # No connection, a connection closed before the answer, a read timeout: none is a ClientError, and whether
        # API Gateway delivered the message is unknown (a read timeout may come after it did).
        except (NetworkError, HTTPClientError) as error:
            logger.warning("push interrupted", extra={"connectionId": connection_id, "error": str(error)})
            return Delivery.INTERRUPTED
        return Delivery.DELIVERED


def _transient(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or status == 429 or error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES
