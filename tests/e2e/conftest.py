"""Journeys through the local stack (`make local`), started once on free ports."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tools.local.server import LocalStack


@dataclass
class Client:
    """A browser's view of the backend: HTTP to the gateway, with or without a token."""

    base: str

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} | (headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local gateway
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    lines: list[str] = []
    state = tmp_path_factory.mktemp("local-stack")
    stack = LocalStack(port=0, log=lines.append, state_dir=state).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def api(local: LocalStack) -> Client:
    return Client(local.url)


def sign_in(local: LocalStack, group: str, kind: str = "IdToken") -> str:
    """A demo user's ID token (or `kind="AccessToken"`), as the frontend gets it from the pool."""
    from tools.local.server import DEMO_PASSWORD, DEMO_USERS

    assert local.stack is not None
    result = local.stack.client("cognito-idp").initiate_auth(
        ClientId=local.stack.physical["UserPoolClient"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_USERS[group]["username"], "PASSWORD": DEMO_PASSWORD},
    )
    token: str = result["AuthenticationResult"][kind]
    return token


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def customer_token(local: LocalStack) -> str:
    return sign_in(local, "customer")


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def admin_token(local: LocalStack) -> str:
    return sign_in(local, "admin")


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def customer_access_token(local: LocalStack) -> str:
    return sign_in(local, "customer", "AccessToken")


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def admin_access_token(local: LocalStack) -> str:
    """What an admin sends to POST /writer: the pool's trigger (run by moto's server) scoped it at sign-in."""
    return sign_in(local, "admin", "AccessToken")


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def machine_token(local: LocalStack) -> str:
    """What a batch job sends to POST /writer: client credentials exchanged at the pool's token endpoint."""
    from tools.token import client_credentials

    assert local.stack is not None
    client = local.stack.client("cognito-idp").describe_user_pool_client(
        UserPoolId=local.stack.physical["UserPool"], ClientId=local.stack.physical["BatchJobClient"]
    )["UserPoolClient"]
    return client_credentials(f"{local.url}/oauth2/token", client["ClientId"], client["ClientSecret"])


def eventually(check: Callable[[], Any], *, timeout: float = 20.0) -> Any:
    """The pipeline is asynchronous: wait until `check` returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not settled after {timeout:.0f} s")


def next_push(socket: Any, order_id: str) -> dict[str, Any]:
    """The next WebSocket message about `order_id` (pushes about the customer's other orders may come first)."""
    while True:
        message = json.loads(socket.recv(timeout=20))
        if message.get("orderId") == order_id:
            return dict(message)
