"""The REST API's request bodies before anything parses them deeply: size, encoding, media type, nesting depth,
then JSON that refuses duplicate keys, NaN/Infinity and numbers too long to convert, each done once per body.

Every refusal is a DomainError naming `body` (or the duplicate key), so a hostile body is a 4xx, never a 5xx.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from dropshop.platform import strict_json
from dropshop.platform.errors import MalformedRequest, PayloadTooLarge, UnsupportedMediaType
from dropshop.platform.json_depth import MAX_DEPTH, deeper_than

MAX_BODY_BYTES = 256 * 1024
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Body:
    """A request body read: its text (base64 undone) and the JSON value it holds (None without a body)."""

    text: str | None
    value: Any


def read(body: str | None, *, base64_encoded: bool, content_type: str | None) -> Body:
    """The body decoded, checked and parsed, each once; a DomainError (400, 413, 415) when it may not be."""
    if not body:
        return Body(body, None)
    raw = _raw_bytes(body, base64_encoded=base64_encoded)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a request body may be at most {MAX_BODY_BYTES} bytes", field="body")
    if not _is_json(content_type):
        raise UnsupportedMediaType(f"send {JSON_MEDIA_TYPE}, not {content_type}", field="Content-Type")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRequest(f"body is not valid UTF-8 (byte {error.start})", field="body") from None
    # json.loads recurses: never hand it something deeper than this
    if deeper_than(raw):
        raise MalformedRequest(f"body is nested deeper than {MAX_DEPTH} levels", field="body")
    return Body(text, _strict(text))


def _strict(text: str) -> Any:
    """Strict JSON (platform/strict_json.py): a duplicate key, NaN/Infinity or a number beyond conversion is a 400,
    never a silent pick."""
    try:
        return strict_json.loads(text)
    except strict_json.StrictJsonError as error:
        raise MalformedRequest(error.problem, field=error.field or "body") from None
    except json.JSONDecodeError as error:
        raise MalformedRequest(f"body is not valid JSON: {error.msg} at position {error.pos}", field="body") from None
    except ValueError as error:  # integers beyond Python's conversion limit (4,300 digits)
        raise MalformedRequest(f"body holds a number this API cannot read: {error}", field="body") from None


def _raw_bytes(body: str, *, base64_encoded: bool) -> bytes:
    if base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise MalformedRequest("body is not valid base64", field="body") from None
    # A proxy event's body is text; lone surrogates (from \ud800 escapes in the event) are not UTF-8 either.
    return body.encode("utf-8", errors="surrogatepass")


def _is_json(content_type: str | None) -> bool:
    """application/json, optionally with a UTF-8 charset; no header at all is read as JSON too."""
    if content_type is None or not content_type.strip():
        return True
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charsets = [p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")]
    return media_type == JSON_MEDIA_TYPE and all(charset in ("utf-8", "utf8") for charset in charsets)
