"""The local gateway answers as API Gateway documents it where the stack's own tests would not notice: POST /writer's
refusals in the HTTP API's shape and bytes SQS refuses never queued (nor altered), the WebSocket Management API
for SigV4-signed callers only, and request paths logged as they were sent."""

from __future__ import annotations

import json
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.test import Client

from dropshop.platform import settings as function_settings
from tests.integration.commerce.conftest import Shop, machine_token
from tests.integration.commerce.test_pipeline_access import queued
from tests.support.properties import budget
from tools.local.gateway import MAX_PAYLOAD_BYTES, Gateway


def post_writer_bytes(shop: Shop, token: str, raw: bytes) -> tuple[int, Any]:
    response = shop.client.post(
        "/writer", data=raw, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    return response.status_code, json.loads(response.get_data())


def not_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return True
    return False


# What SQS refuses (SendMessage: only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF): bytes that
# are no UTF-8 at all, and UTF-8 characters outside that set.
refused_by_sqs = st.one_of(
    st.binary(min_size=1, max_size=64).filter(not_utf8),
    st.sampled_from(["\x00", "\x01", "\x1f", "\ufffe", "\uffff"]).map(lambda c: f'{{"name": "a{c}b"}}'.encode()),
)


@budget(15)
@given(raw=refused_by_sqs)
@example(raw=b'{"id": "acc-1", "name": "Ada \xff Lovelace"}')  # was queued with U+FFFD, then stored
def test_bytes_sqs_refuses_are_a_400_in_the_http_apis_shape_and_never_queued(shop: Shop, raw: bytes) -> None:
    status, answer = post_writer_bytes(shop, machine_token(shop), raw)
    assert status == 400
    assert list(answer) == ["message"]
    assert "InvalidMessageContents" in answer["message"]
    assert queued(shop) == 0


def test_an_empty_writer_body_is_a_400_in_the_http_apis_shape(shop: Shop) -> None:
    assert post_writer_bytes(shop, machine_token(shop), b"") == (400, {"message": "MessageBody is required"})


def test_a_writer_body_over_the_payload_limit_is_a_413_in_the_http_apis_shape(shop: Shop) -> None:
    status, answer = post_writer_bytes(shop, machine_token(shop), b" " * (MAX_PAYLOAD_BYTES + 1))
    assert (status, answer) == (413, {"message": "Request Entity Too Large"})
    assert queued(shop) == 0


class Sockets:
    """The open WebSockets the Management API reaches (tools.local.websocket's side), one open connection."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def post(self, connection_id: str, data: bytes) -> bool:
        self.sent.append(data)
        return connection_id == "open"

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        return {"connectedAt": 1} if connection_id == "open" else None

    def close(self, connection_id: str) -> bool:
        return connection_id == "open"


def signed(method: str, path: str, service: str = "execute-api", data: bytes = b"") -> dict[str, str]:
    request = AWSRequest(method=method, url=f"http://localhost{path}", data=data)
    SigV4Auth(Credentials("testing", "testing", "testing"), service, "eu-west-1").add_auth(request)
    return dict(request.headers.items())


def test_the_management_api_answers_sigv4_signed_callers_only(shop: Shop) -> None:
    sockets = Sockets()
    jwks = function_settings.settings().jwks_url
    client = Client(Gateway(shop.stack, shop.wiring.invoke, jwks_url=jwks, log=lambda _: None, connections=sockets))
    path = "/live/@connections/open"
    unsigned = client.post(path, data=b"hello")
    assert unsigned.status_code == 403
    assert client.get(path, headers={"Authorization": "Bearer anything"}).status_code == 403
    assert client.delete(path, headers=signed("DELETE", path, service="sqs")).status_code == 403
    assert sockets.sent == []
    assert client.post(path, data=b"hello", headers=signed("POST", path, data=b"hello")).status_code == 200
    assert sockets.sent == [b"hello"]
    assert client.get(path, headers=signed("GET", path)).status_code == 200
    gone = "/live/@connections/gone"
    assert client.post(gone, data=b"x", headers=signed("POST", gone, data=b"x")).status_code == 410


def test_a_request_path_is_logged_encoded_so_it_cannot_forge_a_line(shop: Shop) -> None:
    lines: list[str] = []
    jwks = function_settings.settings().jwks_url
    client = Client(Gateway(shop.stack, shop.wiring.invoke, jwks_url=jwks, log=lines.append))
    client.get("/products%0d%0aGET%20/orders%20200%20OrdersFunction?x=%0a")
    (line,) = lines
    assert "\r" not in line
    assert "\n" not in line
    assert "%0" in line.lower()
