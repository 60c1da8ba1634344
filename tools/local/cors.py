"""Local CORS: the local stack answers any frontend on this machine, whatever port its dev server took.

Deployed, the REST API admits one origin (the template's `FrontendOrigin`); locally a frontend runs on
:5173, :3000, :8080 or 127.0.0.1 by its tooling's whim. This layer over the local APIs echoes a request's
`Origin` when it matches one of the local patterns (by default any port of `http://localhost` and
`http://127.0.0.1`; `make local ORIGINS=...` narrows them) and removes the header otherwise, so the browser
refuses exactly what the patterns leave out. A `*` stands for any port.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

LOCAL_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")
ALLOW_ORIGIN = "access-control-allow-origin"


def origin_rule(patterns: Iterable[str]) -> re.Pattern[str]:
    """One expression for the patterns: each exact but for `*`, which matches a port (1 to 5 digits)."""
    alternatives = [re.escape(pattern.strip().rstrip("/")).replace(r"\*", r"\d{1,5}") for pattern in patterns]
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives if alternative))


def parse_origins(text: str) -> tuple[str, ...]:
    """`ORIGINS=` as given to make: comma- or space-separated patterns."""
    return tuple(pattern for pattern in re.split(r"[,\s]+", text) if pattern)


class LocalCors:
    """WSGI middleware: `Access-Control-Allow-Origin` is the request's origin when a pattern admits it."""

    def __init__(self, app: Callable[..., Iterable[bytes]], patterns: Iterable[str] = LOCAL_ORIGINS) -> None:
        self.app = app
        self.rule = origin_rule(patterns)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:  # not a browser's cross-origin call: nothing to decide
            return self.app(environ, start_response)
        admitted = self.rule.fullmatch(origin) is not None

        def with_origin(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            headers = [(name, value) for name, value in headers if name.lower() != ALLOW_ORIGIN]
            if admitted:
                headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            return start_response(status, headers, *rest)

        return self.app(environ, with_origin)
