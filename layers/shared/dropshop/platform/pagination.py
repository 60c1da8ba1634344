"""Opaque page cursors: DynamoDB's LastEvaluatedKey, handed to clients as URL-safe text and checked on return."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
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


def read_page(
    read: Callable[..., dict[str, Any]],
    request: dict[str, Any],
    *,
    cursor: str | None,
    key_attributes: set[str],
    within: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Query or Scan (`read`) from where `cursor` left off: the items and the next cursor.
    A cursor whose key lies outside `within` (another customer's, say) starts over rather than reveal anything."""
    start = decode_cursor(cursor, key_attributes=key_attributes)
    if start and all(start[name] == value for name, value in (within or {}).items()):
        request = {**request, "ExclusiveStartKey": start}
    response = read(**request)
    return response.get("Items", []), encode_cursor(response.get("LastEvaluatedKey"))
