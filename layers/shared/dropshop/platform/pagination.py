"""Opaque page cursors: DynamoDB's LastEvaluatedKey, handed to clients as URL-safe text and checked on return."""

from __future__ import annotations

import base64
import json
from typing import Any

from dropshop.platform.errors import MalformedRequest


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, *, key_attributes: set[str]) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor stands for; 400 naming `cursor` when it is not one we handed out."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise MalformedRequest("cursor is not one this API handed out", field="cursor") from None
    if not isinstance(key, dict) or set(key) != key_attributes:
        raise MalformedRequest("cursor is not one this API handed out", field="cursor")
    return key
