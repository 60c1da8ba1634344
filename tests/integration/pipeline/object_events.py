"""S3 "Object Created" events as AWS's EventBridge sends them for the versioned data bucket: the key as stored
(not URL-encoded, unlike S3's notifications) and the `version-id` of the version each event announces
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tools.local.stack import Stack


def put(stack: Stack, key: str, body: bytes, **extra: Any) -> dict[str, Any]:
    """Put `body` under `key` in the data bucket; the event AWS emits for this very version."""
    bucket = stack.physical["DataBucket"]
    response = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=body, **extra)
    return object_created(stack, key, response["VersionId"])


def object_created(stack: Stack, key: str, version_id: str) -> dict[str, Any]:
    bucket = stack.physical["DataBucket"]
    head = stack.client("s3").head_object(Bucket=bucket, Key=key, VersionId=version_id)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": head["ContentLength"],
                "etag": head["ETag"].strip('"'),
                "version-id": version_id,
                "sequencer": uuid.uuid4().hex[:18].upper(),
            },
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }
