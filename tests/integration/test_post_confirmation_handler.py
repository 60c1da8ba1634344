"""The post-confirmation trigger, fed with events/post_confirmation/*, against moto's Cognito."""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any

import pytest

from tests.support import cognito
from tests.support.events import load_event
from tools.local.lambda_context import LambdaContext


@pytest.fixture(scope="module")
def trigger(load_handler: Any) -> ModuleType:
    module: ModuleType = load_handler("post_confirmation")
    return module


@pytest.fixture
def new_user(cognito_client: Any, user_pool: cognito.UserPool) -> str:
    username = f"new-{uuid.uuid4().hex[:8]}"
    cognito_client.admin_create_user(UserPoolId=user_pool.pool_id, Username=username, MessageAction="SUPPRESS")
    return username


def groups_of(cognito_client: Any, pool: cognito.UserPool, username: str) -> list[str]:
    found = cognito_client.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=username)["Groups"]
    return sorted(group["GroupName"] for group in found)


def confirmation(pool: cognito.UserPool, username: str, trigger_source: str) -> dict[str, Any]:
    event = load_event(
        "post_confirmation/confirm-sign-up", USER_POOL_ID=pool.pool_id, USERNAME=username, CLIENT_ID=pool.client_id
    )
    return {**event, "triggerSource": trigger_source}


def test_a_user_who_confirms_their_sign_up_becomes_a_customer_and_only_that(
    trigger: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool, new_user: str
) -> None:
    event = confirmation(user_pool, new_user, "PostConfirmation_ConfirmSignUp")

    assert trigger.lambda_handler(event, context) == event
    assert trigger.lambda_handler(event, context) == event  # Cognito may retry a trigger

    assert groups_of(cognito_client, user_pool, new_user) == ["customer"]


def test_confirming_a_forgotten_password_changes_no_group(
    trigger: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool, new_user: str
) -> None:
    event = confirmation(user_pool, new_user, "PostConfirmation_ConfirmForgotPassword")

    assert trigger.lambda_handler(event, context) == event

    assert groups_of(cognito_client, user_pool, new_user) == []
