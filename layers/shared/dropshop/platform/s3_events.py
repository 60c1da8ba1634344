"""S3 "Object Created" events as EventBridge delivers them, read through Powertools' data class.

The key is taken as it comes. EventBridge carries it as stored ("EventBridge event message structure",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html); only S3's own notifications to SQS, SNS
or Lambda URL-encode it ("The object key name value is URL encoded",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). Powertools'
EventBridge class `unquote_plus`es it anyway, a second decoding: `incoming/a+b.json` would be read as
`incoming/a b.json`, an object that does not exist.

The data bucket is versioned, so every overwrite is its own event naming its own `version-id`: the object an
event announces is that version, never whatever the key holds by the time the event is handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from dropshop.platform.smoke import SMOKE_EVENT_SOURCE


@dataclass(frozen=True)
class CreatedObject:
    bucket: str
    key: str  # as stored in the bucket
    etag: str
    size: int
    created_at: str
    version_id: str | None = None  # None from a bucket that never had versioning


def created_object(event: dict[str, Any]) -> CreatedObject | None:
    """The object an event announces; None for the deployment hook's smoke event (nothing was created)."""
    if event.get("source") == SMOKE_EVENT_SOURCE:
        return None
    notification = S3EventBridgeNotificationEvent(event)
    detail = notification.detail
    return CreatedObject(
        bucket=detail.bucket.name,
        key=detail.object.raw_event["key"],  # not `.key`: that decodes a key EventBridge never encoded
        etag=detail.object.etag,
        size=detail.object.size or 0,
        created_at=notification.time,
        version_id=detail.object.raw_event.get("version-id"),
    )
