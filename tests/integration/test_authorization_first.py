"""Who may call a route is decided before what they sent is read: a caller without the route's permission gets
403 (401 without a caller) whatever the body, path or query, never the validation errors that describe what the
route accepts."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform import http
from dropshop.platform.settings import settings as settings_of_the_functions
from tests.support.properties import budget
from tools.local.lambda_context import LambdaContext

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"

# (function, method, resource, path parameters): every route only admins may call.
ADMIN_ONLY = [
    ("products", "POST", "/products", {}),
    ("products", "PUT", "/products/{productId}", {"productId": "p-1"}),
    ("products", "DELETE", "/products/{productId}", {"productId": "p-1"}),
    ("orders", "PUT", "/orders/{orderId}/status", {"orderId": "o-1"}),
    ("files_api", "GET", "/files", {}),
    ("files_api", "GET", "/files/{fileId}", {"fileId": "f-1"}),
]

# What a validator would refuse with field errors: bodies a model cannot take or cannot read, a path parameter
# too long, a query parameter out of range.
invalid_bodies = st.one_of(
    st.just(b'{"name": ""}'),
    st.just(b"[" * 5_000),
    st.just(b"\xff\xfe"),
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4).map(
        lambda d: json.dumps(d).encode()
    ),
    st.binary(max_size=64),
)
invalid_parameters = st.fixed_dictionaries(
    {"id": st.sampled_from(["p-1", "x" * 65]), "limit": st.sampled_from([None, "0", "abc", "1000"])}
)


def customer_claims() -> dict[str, str]:
    return {
        "sub": "c-1",
        "cognito:username": "jane",
        "cognito:groups": "customer",
        "token_use": "id",
        "aud": settings_of_the_functions().user_pool_client_id,
    }


def send(
    handler: ModuleType,
    method: str,
    resource: str,
    parameters: dict[str, str],
    *,
    claims: dict[str, str] | None,
    raw: bytes,
    content_type: str | None = "application/json",
    limit: str | None = None,
) -> tuple[int, dict[str, Any]]:
    path = resource
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", value)
    try:
        body, encoded = raw.decode(), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    headers = {"Content-Type": content_type} if content_type else {}
    query = {"limit": limit} if limit is not None else None
    event = {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": parameters or None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "requestId": "r-1",
            "authorizer": {"claims": claims} if claims else {},
        },
        "body": body or None,
        "isBase64Encoded": encoded,
    }
    answer = handler.lambda_handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture(scope="module")
def handlers(load_handler: Any) -> dict[str, ModuleType]:
    return {name: load_handler(name) for name in ("orders", "products", "files_api")}


@pytest.mark.parametrize(("function", "method", "resource", "parameters"), ADMIN_ONLY)
@budget(20)
@given(raw=invalid_bodies, invalid=invalid_parameters)
@example(raw=b'{"name": ""}', invalid={"id": "p-1", "limit": None})  # 422 with the fields before the fix
def test_a_customer_is_refused_403_before_anything_they_sent_is_validated(
    handlers: dict[str, ModuleType],
    function: str,
    method: str,
    resource: str,
    parameters: dict[str, str],
    raw: bytes,
    invalid: dict[str, str | None],
) -> None:
    sent = {name: str(invalid["id"]) for name in parameters}
    status, answer = send(
        handlers[function], method, resource, sent, claims=customer_claims(), raw=raw, limit=invalid["limit"]
    )
    assert (status, answer["error"], answer["field"]) == (403, "forbidden", "Authorization"), answer
    assert "details" not in answer


@pytest.mark.parametrize(("function", "method", "resource", "parameters"), ADMIN_ONLY)
def test_a_caller_without_a_token_is_refused_401_before_their_body_is_read(
    handlers: dict[str, ModuleType], function: str, method: str, resource: str, parameters: dict[str, str]
) -> None:
    # `sam local start-api` runs no authorizer: the function itself refuses, before it reads the body.
    status, answer = send(handlers[function], method, resource, parameters, claims=None, raw=b"[" * 5_000)
    assert (status, answer["error"]) == (401, "unauthenticated"), answer


def test_every_protected_validated_route_declares_its_authorization_first(load_handler: Any) -> None:
    rest_functions = [p.name for p in HANDLERS.iterdir() if "rest_resolver(" in _source(p / "app.py")]
    checked, unchecked = [], []
    for function in rest_functions:
        app = load_handler(function).app
        if not app._enable_validation:  # nothing validated, nothing said before the caller is known
            continue
        for route in app._static_routes + app._dynamic_routes:
            if route.security:
                found = checked if hasattr(route.func, http.AUTHORIZATION_CHECK) else unchecked
                found.append(f"{route.method} {route.path}")
    assert not unchecked
    assert len(checked) >= len(ADMIN_ONLY)


def _source(path: Path) -> str:
    return path.read_text() if path.exists() else ""
