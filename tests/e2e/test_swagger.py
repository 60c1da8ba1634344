"""Swagger UI on `make local` works offline: the page and swagger-ui-dist's assets come from the stack itself,
and the document offers the Cognito bearer scheme on exactly the routes the template guards with it."""

from __future__ import annotations

import json
import re
import urllib.request

from tools.local.gateway import routes
from tools.local.server import LocalStack


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local gateway
        return response.status, response.headers["Content-Type"], response.read()


def test_the_swagger_page_loads_nothing_from_outside_the_stack(local: LocalStack) -> None:
    status, content_type, page = fetch(f"{local.url}/swagger")

    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert not re.findall(rb"https?://", page)  # no CDN: every asset is a path on this origin
    for asset in re.findall(rb'(?:src|href)="(/[^"]+)"', page):
        status, _, body = fetch(local.url + asset.decode())
        assert status == 200
        assert body


def test_the_document_offers_the_bearer_scheme_on_the_routes_the_cognito_authorizer_guards(local: LocalStack) -> None:
    assert local.stack is not None
    document = json.loads(fetch(f"{local.url}/openapi.json")[2])
    guarded = {(r.method, re.sub(r"\{\w+\}", "{}", r.path)) for r in routes(local.stack) if r.authorized}

    assert document["components"]["securitySchemes"]["CognitoIdToken"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = [{"CognitoIdToken": []}] if (method.upper(), re.sub(r"\{\w+\}", "{}", path)) in guarded else None
            assert operation.get("security") == expected, (method, path)
