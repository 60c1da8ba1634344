"""Handlers run in-process against moto's server, configured the way the template configures them."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.support import cognito
from tools.local.lambda_context import LambdaContext


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on 127.0.0.1, in a process of its own.

    A real HTTP endpoint, because the functions fetch the pool's JWKS over HTTP as they do from Cognito.
    Its own process, because moto's in-process server shares the backends that every mock_aws resets.
    """
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, server)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(endpoint: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"moto's server exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - our loopback
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"moto's server did not answer at {endpoint}")


@pytest.fixture(scope="session")
def cognito_client(aws_session: boto3.session.Session, moto_endpoint: str) -> Any:
    return aws_session.client("cognito-idp", endpoint_url=moto_endpoint)


@pytest.fixture(scope="session")
def user_pool(cognito_client: Any) -> cognito.UserPool:
    return cognito.create_user_pool(cognito_client)


@pytest.fixture(scope="session")
def customer(cognito_client: Any, user_pool: cognito.UserPool) -> cognito.SignedInUser:
    return cognito.sign_up(
        cognito_client, user_pool, "jane", email="jane.doe@example.com", name="Jane Doe", groups=["customer"]
    )


@pytest.fixture(scope="session")
def admin(cognito_client: Any, user_pool: cognito.UserPool) -> cognito.SignedInUser:
    return cognito.sign_up(
        cognito_client, user_pool, "ada", email="ada@dropshop.test", name="Ada Admin", groups=["admin"]
    )


@pytest.fixture(scope="session")
def function_environment(moto_endpoint: str, user_pool: cognito.UserPool) -> Iterator[None]:
    """What the template gives the functions, pointed at moto through AWS_ENDPOINT_URL."""
    values = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "USER_POOL_ID": user_pool.pool_id,
        "USER_POOL_CLIENT_ID": user_pool.client_id,
    }
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    _forget_cached_configuration()
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _forget_cached_configuration()


def _forget_cached_configuration() -> None:
    from dropshop.identity import service
    from dropshop.platform import aws, settings

    settings.settings.cache_clear()
    aws.client.cache_clear()
    service.verifier.cache_clear()
    service.directory.cache_clear()


@pytest.fixture(scope="session")
def load_handler(function_environment: None) -> Any:
    """Import handlers/<name>/app.py after the environment is set, as a cold start would."""

    def load(name: str) -> ModuleType:
        return importlib.import_module(f"handlers.{name}.app")

    return load


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()
