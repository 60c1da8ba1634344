"""S3 "Object Created" events as EventBridge delivers them, read through Powertools' data class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from dropshop.platform.smoke import SMOKE_EVENT_SOURCE


@dataclass(frozen=True)
class CreatedObject:
    bucket: str
    key: str  # URL-decoded, as Powertools reads it
    etag: str
    size: int
    created_at: str


def created_object(event: dict[str, Any]) -> CreatedObject | None:
    """The object an event announces; None for the deployment hook's smoke event (nothing was created)."""
    if event.get("source") == SMOKE_EVENT_SOURCE:
        return None
    notification = S3EventBridgeNotificationEvent(event)
    detail = notification.detail
    return CreatedObject(
        bucket=detail.bucket.name,
        key=detail.object.key,
        etag=detail.object.etag,
        size=detail.object.size or 0,
        created_at=notification.time,
    )
