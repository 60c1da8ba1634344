"""The commerce services as the template wires them: the whole stack provisioned into moto's server, the
REST API served by the local gateway (routes, Cognito authorizer, CORS), functions run in-process, and
the outbox stream, SNS subscriptions and SQS mappings pumped by the local wiring."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from werkzeug.test import Client

from dropshop.platform import settings
from tests.support import cognito, container
from tools.local.gateway import Gateway
from tools.local.oauth2 import TokenEndpoint
from tools.local.stack import Stack, provision
from tools.local.wiring import Wiring


@dataclass
class Shop:
    stack: Stack
    wiring: Wiring
    client: Client
    users: dict[str, cognito.SignedInUser]

    def call(
        self,
        method: str,
        path: str,
        *,
        as_user: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if as_user == "machine":  # a batch job: its client-credentials access token, no user's ID token
            sent["Authorization"] = f"Bearer {machine_token(self)}"
        elif as_user:
            sent["Authorization"] = f"Bearer {self.users[as_user].id_token}"
        data = None if body is None else json.dumps(body)
        response = self.client.open(path, method=method, data=data, headers=sent, content_type="application/json")
        return response.status_code, json.loads(response.get_data() or b"null")

    def add_product(
        self,
        *,
        name: str = "Mug",
        amount: int = 1250,
        stock: int = 10,
        category: str = "kitchen",
        vat_category: str = "standard",
        currency: str = "EUR",
    ) -> str:
        draft = {"name": name, "category": category, "price": {"amount": amount, "currency": currency}, "stock": stock}
        status, product = self.call("POST", "/products", as_user="admin", body=draft | {"vatCategory": vat_category})
        assert status == 201, product
        return str(product["productId"])

    def place_order(self, product_id: str, quantity: int = 1, *, as_user: str = "customer") -> dict[str, Any]:
        status, order = self.call(
            "POST", "/orders", as_user=as_user, body={"lines": [{"productId": product_id, "quantity": quantity}]}
        )
        assert status == 201, order
        return dict(order)

    def order(self, order_id: str, *, as_user: str = "customer") -> dict[str, Any]:
        status, order = self.call("GET", f"/orders/{order_id}", as_user=as_user)
        assert status == 200, order
        return dict(order)

    def redelivery(self, event_type: str, order_id: str) -> dict[str, Any]:
        """The order's one `event_type` event from the outbox, as an SQS batch delivering it once more."""
        outbox = self.stack.client("dynamodb").scan(TableName=self.stack.physical["OutboxTable"])["Items"]
        (event,) = [
            item["event"]["S"]
            for item in outbox
            if item["eventType"]["S"] == event_type and order_id in item["event"]["S"]
        ]
        return {"Records": [{"messageId": "redelivered", "body": event, "eventSource": "aws:sqs"}]}

    def settle(self) -> None:
        """Relay the outbox and run the consumers until nothing moves."""
        self.wiring.drain()

    def item(self, table: str, **key: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = (
            self.stack.client("dynamodb")
            .get_item(
                TableName=self.stack.physical[table], Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
            )
            .get("Item")
        )
        return found


@pytest.fixture
def shop(aws_session: boto3.session.Session, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    stack = provision(aws_session, name=f"shop-{uuid.uuid4().hex[:8]}", endpoint_url=moto_endpoint)
    for function in stack.of_type("AWS::Serverless::Function"):
        for key, value in stack.environment(function).items():
            if key != "POWERTOOLS_SERVICE_NAME":
                monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # Pushes go through the WebSocket API's own endpoint, never the template's AWS URL; no socket is open
    # here (tests/e2e/test_realtime.py covers pushes on the local stack's WebSocket API).
    monkeypatch.setenv("WEBSOCKET_CALLBACK_URL", moto_endpoint)
    container.cold_start()
    pool = cognito.UserPool(stack.physical["UserPool"], stack.physical["UserPoolClient"])
    client = stack.client("cognito-idp")
    users = {
        "customer": cognito.sign_up(client, pool, "jane", email="jane@example.com", name="Jane", groups=["customer"]),
        "other": cognito.sign_up(client, pool, "omar", email="omar@example.com", name="Omar", groups=["customer"]),
        "admin": cognito.sign_up(client, pool, "ada", email="ada@example.com", name="Ada", groups=["admin"]),
    }
    wiring = Wiring(stack)
    gateway = Gateway(stack, wiring.invoke, jwks_url=settings.settings().jwks_url, log=lambda line: None)
    yield Shop(stack, wiring, Client(gateway), users)
    container.cold_start()


# A batch job's token for POST /writer: client credentials at the pool's token endpoint (tools.local.oauth2).
SCOPE = "dropshop/pipeline.write"


def token_endpoint(shop: Shop) -> Client:
    pool = shop.stack.physical["UserPool"]
    return Client(TokenEndpoint(shop.stack.client("cognito-idp"), pool, shop.stack.region))


def batch_job(shop: Shop) -> tuple[str, str]:
    described = shop.stack.client("cognito-idp").describe_user_pool_client(
        UserPoolId=shop.stack.physical["UserPool"], ClientId=shop.stack.physical["BatchJobClient"]
    )["UserPoolClient"]
    return described["ClientId"], described["ClientSecret"]


def request_token(shop: Shop, client_id: str, secret: str, **form: str) -> tuple[int, dict[str, Any]]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = token_endpoint(shop).post(
        "/", data={"grant_type": "client_credentials", **form}, headers={"Authorization": f"Basic {basic}"}
    )
    return response.status_code, json.loads(response.get_data())


def machine_token(shop: Shop) -> str:
    status, answer = request_token(shop, *batch_job(shop), scope=SCOPE)
    assert status == 200, answer
    return str(answer["access_token"])
