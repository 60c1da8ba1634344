"""The WebSocket API on `make local`, as a browser uses it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import Client, eventually, next_push
from tests.support import cognito
from tools.local.server import DEMO_ORDER_ID, LocalStack


def entries(local: LocalStack) -> list[dict[str, Any]]:
    """Everything ConnectionsTable holds: connections and their subscriptions."""
    assert local.stack is not None
    items: list[dict[str, Any]] = local.stack.client("dynamodb").scan(
        TableName=local.stack.physical["ConnectionsTable"], ConsistentRead=True
    )["Items"]
    return items


def connections(local: LocalStack) -> list[dict[str, Any]]:
    return [item for item in entries(local) if item["entry"]["S"] == "connection"]


def ask(socket: ClientConnection, message: Any) -> dict[str, Any]:
    socket.send(message if isinstance(message, str) else json.dumps(message))
    answer: dict[str, Any] = json.loads(socket.recv(timeout=10))
    return answer


@pytest.mark.parametrize("query", ["", "?token=", "?token=not-a-jwt"])
def test_sockets_without_a_valid_token_are_refused_with_401(local: LocalStack, query: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{local.websocket_url}/{query}", open_timeout=10)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"] == "unauthenticated"


@pytest.fixture(scope="module")
def other_customer_token(local: LocalStack) -> str:
    """A second shopper, who has no order of the demo customer's."""
    assert local.stack is not None
    pool = cognito.UserPool(local.stack.physical["UserPool"], local.stack.physical["UserPoolClient"])
    client = local.stack.client("cognito-idp")
    return cognito.sign_up(client, pool, "omar", email="omar@example.com", name="Omar", groups=["customer"]).id_token


# Who may open a socket: users signed in to the web client (their ID token). A batch job's client-credentials
# access token is no user's: it may write to the pipeline, never listen to orders.
@pytest.mark.parametrize(
    ("caller", "opens"),
    [(None, False), ("customer_token", True), ("machine_token", False), ("admin_token", True)],
)
def test_connect_authorization_matrix(
    local: LocalStack, request: pytest.FixtureRequest, caller: str | None, opens: bool
) -> None:
    query = f"?token={request.getfixturevalue(caller)}" if caller else ""
    if opens:
        with connect(f"{local.websocket_url}/{query}", open_timeout=10) as socket:
            assert ask(socket, {"action": "subscribe", "orderId": DEMO_ORDER_ID})["orderId"] == DEMO_ORDER_ID
        return
    before = {item["connectionId"]["S"] for item in connections(local)}
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{local.websocket_url}/{query}", open_timeout=10)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"] == "unauthenticated"
    assert {item["connectionId"]["S"] for item in connections(local)} <= before  # nothing recorded for it


@pytest.mark.parametrize(
    ("caller", "answer"),
    [("customer_token", "orderStatus"), ("other_customer_token", "not_found"), ("admin_token", "orderStatus")],
)
def test_subscribe_authorization_matrix(
    local: LocalStack, request: pytest.FixtureRequest, caller: str, answer: str
) -> None:
    """The demo customer's order: theirs and any admin's to follow; to another shopper it does not exist."""
    before = {item["connectionId"]["S"] for item in connections(local)}
    with connect(f"{local.websocket_url}/?token={request.getfixturevalue(caller)}", open_timeout=10) as socket:
        (opened,) = [item for item in connections(local) if item["connectionId"]["S"] not in before]
        heard = ask(socket, {"action": "subscribe", "orderId": DEMO_ORDER_ID})
        recorded = {item["entry"]["S"] for item in entries(local) if item["connectionId"] == opened["connectionId"]}
    assert heard.get("type", heard.get("error")) == answer, heard
    assert (f"order#{DEMO_ORDER_ID}" in recorded) == (answer == "orderStatus")


def test_a_signed_in_socket_and_its_subscriptions_are_recorded_until_it_closes(
    local: LocalStack, customer_token: str
) -> None:
    before = {item["connectionId"]["S"] for item in connections(local)}
    with connect(f"{local.websocket_url}/?token={customer_token}", open_timeout=10) as socket:
        (opened,) = [item for item in connections(local) if item["connectionId"]["S"] not in before]
        assert opened["username"]["S"] == "jane"
        assert int(opened["expiresAt"]["N"]) > time.time() + 3600  # TTL clears what $disconnect misses
        ask(socket, {"action": "subscribe", "orderId": DEMO_ORDER_ID})
        mine = [item["entry"]["S"] for item in entries(local) if item["connectionId"] == opened["connectionId"]]
        assert sorted(mine) == ["connection", f"order#{DEMO_ORDER_ID}"]
    eventually(lambda: opened["connectionId"] not in [item["connectionId"] for item in entries(local)])


def test_subscribe_answers_with_the_orders_current_status(
    local: LocalStack, customer_token: str, admin_token: str
) -> None:
    with connect(f"{local.websocket_url}/?token={customer_token}", open_timeout=10) as socket:
        answer = ask(socket, {"action": "subscribe", "orderId": DEMO_ORDER_ID})
        assert answer["type"] == "orderStatus"
        assert answer["orderId"] == DEMO_ORDER_ID
        assert answer["status"] in {"PLACED", "CONFIRMED"}
    with connect(f"{local.websocket_url}/?token={admin_token}", open_timeout=10) as socket:
        assert ask(socket, {"action": "subscribe", "orderId": DEMO_ORDER_ID})["orderId"] == DEMO_ORDER_ID


def test_bad_messages_get_an_error_naming_the_field(local: LocalStack, customer_token: str) -> None:
    with connect(f"{local.websocket_url}/?token={customer_token}", open_timeout=10) as socket:
        missing = ask(socket, {"action": "subscribe"})
        assert (missing["error"], missing["field"]) == ("invalid_request", "orderId")  # as the REST API says it
        assert [problem["field"] for problem in missing["details"]] == ["orderId"]
        assert ask(socket, {"action": "subscribe", "orderId": ""})["field"] == "orderId"
        assert ask(socket, {"action": "subscribe", "orderId": "someone-elses"})["error"] == "not_found"
        assert ask(socket, '{"action": "subscribe", ')["message"] == "Forbidden"  # no route: API Gateway says so
        assert ask(socket, {"action": "shout"})["message"] == "Forbidden"


def test_an_admin_who_subscribes_to_a_customers_order_hears_its_changes(
    local: LocalStack, api: Client, customer_token: str, admin_token: str
) -> None:
    status, order = api.request(
        "POST", "/orders", token=customer_token, body={"lines": [{"productId": "demo-enamel-mug", "quantity": 1}]}
    )
    assert status == 201
    eventually(lambda: api.request("GET", f"/orders/{order['orderId']}", token=admin_token)[1]["status"] == "CONFIRMED")
    with connect(f"{local.websocket_url}/?token={admin_token}", open_timeout=10) as socket:
        assert ask(socket, {"action": "subscribe", "orderId": order["orderId"]})["status"] == "CONFIRMED"
        api.request("PUT", f"/orders/{order['orderId']}/status", token=admin_token, body={"status": "SHIPPED"})
        # The confirmation's own push may still be on its way; the shipment's follows it.
        heard = [json.loads(socket.recv(timeout=20))]
        while heard[-1]["status"] != "SHIPPED":
            heard.append(json.loads(socket.recv(timeout=20)))
    assert {message["orderId"] for message in heard} == {order["orderId"]}


def test_a_push_to_a_socket_that_is_gone_forgets_it(local: LocalStack, api: Client, customer_token: str) -> None:
    assert local.stack is not None
    before = {item["connectionId"]["S"] for item in connections(local)}
    with connect(f"{local.websocket_url}/?token={customer_token}", open_timeout=10) as socket:
        (live,) = [item for item in connections(local) if item["connectionId"]["S"] not in before]
        # A socket API Gateway closed without $disconnect reaching the table.
        stale = live | {"connectionId": {"S": "c3RhbGUtc29ja2V0"}}
        local.stack.client("dynamodb").put_item(TableName=local.stack.physical["ConnectionsTable"], Item=stale)
        status, order = api.request(
            "POST", "/orders", token=customer_token, body={"lines": [{"productId": "demo-enamel-mug", "quantity": 1}]}
        )
        assert status == 201
        next_push(socket, order["orderId"])  # the live socket hears the confirmation
    eventually(lambda: "c3RhbGUtc29ja2V0" not in {item["connectionId"]["S"] for item in connections(local)})
