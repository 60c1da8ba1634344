"""Whatever bytes arrive as a REST body, every function that reads one answers 4xx in the one error shape."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform.json_body import MAX_BODY_BYTES, MAX_DEPTH
from dropshop.platform.settings import settings as settings_of_the_functions
from tests.support.properties import budget
from tools.local.lambda_context import LambdaContext

# (function, method, path): every route that reads a body.
BODY_ROUTES = [
    ("telemetry", "POST", "/telemetry", "/telemetry"),
    ("orders", "POST", "/orders", "/orders"),
    ("orders", "PUT", "/orders/{orderId}/status", "/orders/o-1/status"),
    ("products", "POST", "/products", "/products"),
    ("products", "PUT", "/products/{productId}", "/products/p-1"),
]


def admin_claims() -> dict[str, str]:
    """What API Gateway's Cognito authorizer passes on for an admin who shops too: every route here is theirs."""
    return {
        "sub": "a-1",
        "cognito:username": "ada",
        "cognito:groups": "admin,customer",
        "token_use": "id",
        "aud": settings_of_the_functions().user_pool_client_id,
    }


def send(
    handler: ModuleType,
    method: str,
    resource: str,
    path: str,
    raw: bytes,
    content_type: str | None,
    claims: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """The proxy event API Gateway hands over (by default an admin's): text when the bytes are UTF-8, base64
    otherwise."""
    try:
        body, encoded = raw.decode(), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    headers = {"Content-Type": content_type} if content_type is not None else {}
    parameters = dict(zip(["orderId", "productId"], [path.split("/")[2]] * 2, strict=True)) if "{" in resource else None
    event = {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": parameters,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "requestId": "r-1",
            "authorizer": {"claims": admin_claims() if claims is None else claims},
        },
        "body": body or None,
        "isBase64Encoded": encoded,
    }
    answer = handler.lambda_handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def nested(depth: int, *, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def nested_objects(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def with_duplicate_key(document: dict[str, Any], key: str) -> bytes:
    text = json.dumps(document)
    return (
        "{" + json.dumps(key) + ': "first", ' + text[1:]
        if document
        else "{" + json.dumps(key) + ': 1, "' + key + '": 2}'
    ).encode()


hostile_bodies = st.one_of(
    st.integers(MAX_DEPTH + 1, 20_000).map(nested),
    st.integers(MAX_DEPTH + 1, 20_000).map(nested_objects),
    st.binary(min_size=1, max_size=256).filter(lambda raw: _not_utf8(raw)),
    st.builds(
        lambda document, key: with_duplicate_key({**document, key: 1}, key),
        st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
        st.text(max_size=8),
    ),
    st.sampled_from([b"NaN", b"[Infinity]", b'{"stock": 1e999}', b"1" * 5000, b'"\\ud800"', b"{", b"\x00"]),
)
foreign_media_types = st.sampled_from(
    [
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/xml",
        "application/json; charset=latin-1",
        "application/jsonp",
        "*/*",
    ]
)


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return True
    return False


@pytest.fixture(scope="module")
def handlers(load_handler: Any) -> dict[str, ModuleType]:
    return {name: load_handler(name) for name in ("telemetry", "orders", "products")}


def assert_refused_in_the_error_shape(status: int, answer: dict[str, Any], *statuses: int) -> None:
    assert status in statuses, answer
    assert isinstance(answer["error"], str)
    assert isinstance(answer["message"], str)
    assert "field" in answer


@pytest.mark.parametrize(("function", "method", "resource", "path"), BODY_ROUTES)
@budget(40)
@given(raw=hostile_bodies)
def test_a_hostile_body_is_refused_in_the_error_shape(
    handlers: dict[str, ModuleType], function: str, method: str, resource: str, path: str, raw: bytes
) -> None:
    status, answer = send(handlers[function], method, resource, path, raw, "application/json")
    assert_refused_in_the_error_shape(status, answer, 400, 422)  # 422: valid JSON the route's model refuses


# The issue's cases, each once per route: 502 before, a 400 naming the body now.
ISSUE_CASES = {
    "nested 10,000 deep": nested(10_000),
    "objects nested 10,000 deep": nested_objects(10_000),
    "printf '\\xff\\xfe'": b"\xff\xfe",
    "duplicate keys": b'{"quantity": -5, "quantity": 1}',
    "integer of 5,000 digits": b"1" * 5000,
    "infinity": b'{"stock": 1e999}',
}


@pytest.mark.parametrize(("function", "method", "resource", "path"), BODY_ROUTES)
@pytest.mark.parametrize("raw", list(ISSUE_CASES.values()), ids=list(ISSUE_CASES))
def test_the_issues_hostile_bodies_are_400s(
    handlers: dict[str, ModuleType], function: str, method: str, resource: str, path: str, raw: bytes
) -> None:
    status, answer = send(handlers[function], method, resource, path, raw, "application/json")
    assert_refused_in_the_error_shape(status, answer, 400)


@pytest.mark.parametrize(("function", "method", "resource", "path"), BODY_ROUTES)
@budget(15)
@given(content_type=foreign_media_types)
@example(content_type="multipart/form-data")  # without a boundary: 502 in the issue
def test_a_body_in_another_media_type_is_a_415(
    handlers: dict[str, ModuleType], function: str, method: str, resource: str, path: str, content_type: str
) -> None:
    status, answer = send(handlers[function], method, resource, path, b'{"a": 1}', content_type)
    assert_refused_in_the_error_shape(status, answer, 415)
    assert answer["field"] == "Content-Type"


def any_case(text: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from(sorted({c.lower(), c.upper()})) for c in text)).map("".join)


# RFC 9110 §8.3.1: type, subtype and parameter names are case-insensitive, and so is the charset's value
# (RFC 9110 §8.3.2); optional whitespace around the semicolon (§5.6.6).
json_media_types = st.builds(
    lambda media_type, parameter: media_type + parameter,
    any_case("application/json"),
    st.one_of(
        st.just(""),
        st.builds(
            lambda separator, name, value: f"{separator}{name}={value}",
            st.sampled_from([";", "; ", " ;", " ; "]),
            any_case("charset"),
            st.sampled_from(["utf-8", "utf8"]).flatmap(any_case),
        ),
    ),
)


@pytest.mark.parametrize(("function", "method", "resource", "path"), BODY_ROUTES)
@budget(25)
@given(content_type=json_media_types)
@example(content_type="APPLICATION/JSON")
@example(content_type="Application/Json; Charset=UTF-8")
def test_json_is_read_whatever_the_case_of_its_media_type(
    handlers: dict[str, ModuleType], function: str, method: str, resource: str, path: str, content_type: str
) -> None:
    # A body that reads as JSON and that no route's model takes: the route's own judgement, never a 415.
    status, answer = send(handlers[function], method, resource, path, b'{"unexpected": 1}', content_type)
    assert_refused_in_the_error_shape(status, answer, 400, 422)
    assert answer["field"] != "Content-Type"


@pytest.mark.parametrize(("function", "method", "resource", "path"), BODY_ROUTES)
def test_a_body_over_the_size_limit_is_a_413(
    handlers: dict[str, ModuleType], function: str, method: str, resource: str, path: str
) -> None:
    raw = json.dumps({"padding": "x" * MAX_BODY_BYTES}).encode()
    status, answer = send(handlers[function], method, resource, path, raw, "application/json")
    assert_refused_in_the_error_shape(status, answer, 413)


def test_a_duplicate_key_is_named(handlers: dict[str, ModuleType]) -> None:
    status, answer = send(
        handlers["orders"], "POST", "/orders", "/orders", b'{"lines": [{"quantity": -5, "quantity": 1}]}', None
    )
    assert (status, answer["error"], answer["field"]) == (400, "malformed_request", "quantity")


def test_nesting_at_the_limit_is_read_and_judged_by_the_model(handlers: dict[str, ModuleType]) -> None:
    status, answer = send(handlers["telemetry"], "POST", "/telemetry", "/telemetry", nested(MAX_DEPTH), None)
    assert_refused_in_the_error_shape(status, answer, 400)
    assert answer["field"] == "events"  # parsed, then refused for what it is, not for its depth


@pytest.mark.parametrize("function", ["telemetry", "orders", "products"])
def test_a_route_the_function_does_not_have_is_a_404_in_the_error_shape(
    handlers: dict[str, ModuleType], function: str
) -> None:
    status, answer = send(handlers[function], "PATCH", "/nowhere", "/nowhere", b"", None)
    assert_refused_in_the_error_shape(status, answer, 404)
    assert (answer["error"], answer["field"]) == ("not_found", "path")


def test_a_body_on_a_route_that_reads_none_is_ignored(handlers: dict[str, ModuleType]) -> None:
    event_status, answer = send(handlers["products"], "GET", "/nowhere", "/nowhere", b"\xff" * 10, "text/plain")
    assert (event_status, answer["error"]) == (404, "not_found")  # the route's own answer, not the body's


def test_the_websocket_function_answers_a_message_nested_too_deep_with_a_400_frame(load_handler: Any) -> None:
    websocket = load_handler("websocket")
    message = '{"action": "subscribe", "orderId": ' + "[" * 50_000 + "]" * 50_000 + "}"
    event = {
        "requestContext": {"routeKey": "subscribe", "connectionId": "c-1", "eventType": "MESSAGE"},
        "body": message,
        "isBase64Encoded": False,
    }
    answer = websocket.lambda_handler(event, LambdaContext())
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["field"] == "body"
