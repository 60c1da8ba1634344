"""Swagger UI at /swagger, from the copy of swagger-ui-dist the swagger-ui-py package ships: the page works
offline (no CDN), reads /openapi.json, and its "Authorize" takes an ID token from `make token`."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# The scheme the page offers under "Authorize" for the routes the template puts behind the Cognito authorizer.
BEARER_SCHEME = "CognitoIdToken"
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A Cognito ID token: `make token AS=customer` (or AS=admin) prints one for `make local`.",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drop Shop REST API</title>
<link rel="icon" type="image/png" href="/swagger/favicon-32x32.png">
<link rel="stylesheet" href="/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});
</script>
</body></html>"""


def assets() -> Path:
    """swagger-ui-dist's files inside the installed package (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def swagger_ui() -> WSGIApp:
    """The page at the mount point, swagger-ui-dist's assets beside it."""

    def page(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in ("", "/"):
            return Response(PAGE, content_type="text/html; charset=utf-8")(environ, start_response)
        return NotFound()(environ, start_response)

    served: WSGIApp = SharedDataMiddleware(page, {"/": str(assets())})
    return served


def with_bearer_auth(document: dict[str, Any], authorized: set[tuple[str, str]]) -> dict[str, Any]:
    """The document with the bearer scheme on each operation (method, path) the Cognito authorizer guards,
    unless the document already says how that operation is secured."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).setdefault(BEARER_SCHEME, BEARER)
    guarded = {(method, _shape(path)) for method, path in authorized}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if (method.upper(), _shape(path)) in guarded and isinstance(operation, dict):
                operation.setdefault("security", [{BEARER_SCHEME: []}])
    return document


def _shape(path: str) -> str:
    """/orders/{orderId} and /orders/{order_id} are one route: parameters compare by position only."""
    return re.sub(r"\{[^}]*\}", "{}", path)
