"""Swagger UI on `make local` works offline: the page and swagger-ui-dist's assets come from the stack itself,
and the document offers the Cognito bearer scheme on exactly the routes the template guards with it (and the
pipeline's scoped access token on POST /writer)."""

from __future__ import annotations

import json
import re
import urllib.request

from tools.local.gateway import routes
from tools.local.server import LocalStack


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the local gateway (busy cores: the document is merged on demand)
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
    served = routes(local.stack)
    guarded = {(r.method, re.sub(r"\{\w+\}", "{}", r.path)) for r in served if r.authorized and r.jwt is None}
    # The HTTP API's JWT authorizer wants an access token with its scopes, not the REST API's ID token.
    scoped = {(r.method, r.path): [{"PipelineAccessToken": sorted(r.jwt.scopes)}] for r in served if r.jwt}

    assert document["components"]["securitySchemes"]["CognitoIdToken"]["scheme"] == "bearer"
    assert scoped
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = [{"CognitoIdToken": []}] if (method.upper(), re.sub(r"\{\w+\}", "{}", path)) in guarded else None
            assert operation.get("security") == scoped.get((method.upper(), path), expected), (method, path)
