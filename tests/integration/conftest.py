"""Handlers run in-process against moto's server, configured the way the template configures them."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.support import cognito, container
from tools.local.lambda_context import LambdaContext
from tools.local.moto_server import moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # A real HTTP endpoint: the functions fetch the pool's JWKS over HTTP, as they do from Cognito.
    with moto_server() as endpoint:
        yield endpoint


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


@pytest.fixture(scope="module")
def function_environment(moto_endpoint: str, user_pool: cognito.UserPool) -> Iterator[None]:
    """What the template gives the functions, pointed at moto through AWS_ENDPOINT_URL.

    One module is one warm container: its environment and cached clients end with it, so a later module's
    in-process mock (tests/integration/pipeline) never reaches moto's server through them.
    """
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AWS_ENDPOINT_URL", moto_endpoint)
        environment.setenv("USER_POOL_ID", user_pool.pool_id)
        environment.setenv("USER_POOL_CLIENT_ID", user_pool.client_id)
        container.cold_start()
        yield
    container.cold_start()


@pytest.fixture(scope="module")
def load_handler(function_environment: None) -> Any:
    """Import handlers/<name>/app.py after the environment is set, as a cold start would."""

    def load(name: str) -> ModuleType:
        return importlib.import_module(f"handlers.{name}.app")

    return load


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()
