"""Opaque page cursors: where a page ended (the key of its last item), handed to clients as URL-safe text and
checked on return."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from dropshop.platform.errors import MalformedRequest

MAX_KEY_BYTES = 1024  # DynamoDB's limit on a sort key value (a partition key's is 2,048)
# A filtered read's Limit counts the items DynamoDB evaluates, not those it returns: reading at least this many
# per request keeps a rare match among many items to a few requests instead of one per two items.
FILTERED_READ_ITEMS = 100


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
    if not isinstance(key, dict) or set(key) != key_attributes or not all(map(_is_key_value, key.values())):
        raise MalformedRequest("cursor is not one this API handed out", field="cursor")
    return key


def _is_key_value(value: Any) -> bool:
    """What DynamoDB takes as a key value of these tables (every key attribute is a string): a non-empty string
    that is valid UTF-8 and within the 1,024 bytes of a sort key. Anything else, forged, would be a 500."""
    if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str):
        return False
    try:
        size = len(value["S"].encode())
    except UnicodeEncodeError:  # a lone surrogate: valid JSON, not UTF-8
        return False
    return 0 < size <= MAX_KEY_BYTES


def read_page(
    read: Callable[..., dict[str, Any]],
    request: dict[str, Any],
    *,
    cursor: str | None,
    key_attributes: set[str],
    within: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Query or Scan (`read`) from where `cursor` left off: `request["Limit"]` items (fewer only on
    the last page) and the next cursor (None on the last page, never a cursor to an empty page).

    The cursor carries the attributes of `within` too: one whose values differ (another customer's, another
    status's) starts over rather than reveal anything, and one from a query of another shape is a 400. Attributes
    of `within` outside `key_attributes` (a FilterExpression's) are carried in the cursor, not sent to DynamoDB."""
    within = within or {}
    carried = key_attributes | set(within)
    limit = request["Limit"]
    start = decode_cursor(cursor, key_attributes=carried)
    if start and any(start[name] != value for name, value in within.items()):
        start = None
    items: list[dict[str, Any]] = []
    while True:
        # One item more than the page holds: whether another page follows, without reading an empty one.
        wanted = limit - len(items) + 1
        page = dict(request, Limit=max(wanted, FILTERED_READ_ITEMS) if "FilterExpression" in request else wanted)
        if start:
            page["ExclusiveStartKey"] = {name: start[name] for name in key_attributes}
        response = read(**page)
        items += response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        # DynamoDB ends its own pages short, at 1 MB read or after filtering: read on until this one is full.
        if len(items) > limit or not start:
            break
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, encode_cursor({name: items[-1][name] for name in carried})
