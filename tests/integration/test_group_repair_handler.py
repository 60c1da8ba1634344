"""The group repair, fed with events/group_repair/*, against moto's Cognito: a confirmed user whose sign-up trigger
failed (Cognito gives it 5 s: https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html)
is in no group, and nothing else ever adds them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from dropshop.identity.service import REPAIR_WINDOW
from tests.support import cognito
from tests.support.events import load_event
from tools.local.lambda_context import LambdaContext


@pytest.fixture(scope="module")
def repair(load_handler: Any) -> ModuleType:
    module: ModuleType = load_handler("group_repair")
    return module


def confirmed_user(client: Any, pool: cognito.UserPool, *groups: str) -> str:
    """A user who signed up and confirmed (their trigger's work, if any, done by `groups`)."""
    username = f"user-{uuid.uuid4().hex[:8]}"
    client.admin_create_user(UserPoolId=pool.pool_id, Username=username, MessageAction="SUPPRESS")
    client.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=username, Password="S3cure!pass-word", Permanent=True
    )
    for group in groups:
        client.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=group)
    return username


def groups_of(client: Any, pool: cognito.UserPool, username: str) -> list[str]:
    found = client.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=username)["Groups"]
    return sorted(group["GroupName"] for group in found)


def test_a_confirmed_user_in_no_group_becomes_a_customer_and_nobody_else_changes(
    repair: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool
) -> None:
    stranded = confirmed_user(cognito_client, user_pool)  # their post-confirmation trigger timed out
    customer = confirmed_user(cognito_client, user_pool, "customer")
    admin = confirmed_user(cognito_client, user_pool, "admin")
    unconfirmed = f"pending-{uuid.uuid4().hex[:8]}"
    cognito_client.admin_create_user(UserPoolId=user_pool.pool_id, Username=unconfirmed, MessageAction="SUPPRESS")

    answer = repair.lambda_handler(load_event("group_repair/scheduled"), context)

    assert stranded in answer["repaired"]
    assert {customer, admin, unconfirmed}.isdisjoint(answer["repaired"])
    assert groups_of(cognito_client, user_pool, stranded) == ["customer"]
    assert groups_of(cognito_client, user_pool, admin) == ["admin"]  # never made a customer too
    assert groups_of(cognito_client, user_pool, unconfirmed) == []  # not confirmed: not a customer yet
    # Run again (the next schedule, or EventBridge's at-least-once delivery): nobody is added twice.
    assert repair.lambda_handler(load_event("group_repair/scheduled"), context) == {"repaired": []}


def test_more_stranded_users_than_one_page_are_all_repaired(
    repair: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool
) -> None:
    stranded = {confirmed_user(cognito_client, user_pool) for _ in range(65)}  # ListUsers pages hold 60
    answer = repair.lambda_handler(load_event("group_repair/scheduled"), context)
    assert stranded <= set(answer["repaired"])
    assert all(groups_of(cognito_client, user_pool, u) == ["customer"] for u in sorted(stranded)[:3])


def test_the_deployment_hooks_smoke_event_is_acknowledged_and_repairs_nobody(
    repair: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool
) -> None:
    from dropshop.operations import canary

    stranded = confirmed_user(cognito_client, user_pool)
    answer = repair.lambda_handler(canary.smoke_event("schedule"), context)
    assert canary.verdict("schedule", answer, None) is None
    assert groups_of(cognito_client, user_pool, stranded) == []


def scheduled_at(time: datetime) -> dict[str, Any]:
    event: dict[str, Any] = load_event("group_repair/scheduled")
    event["time"] = time.isoformat().replace("+00:00", "Z")
    return event


def test_a_disabled_user_in_no_group_is_left_there(
    repair: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool
) -> None:
    disabled = confirmed_user(cognito_client, user_pool)  # shut out by an operator (AdminDisableUser)
    cognito_client.admin_disable_user(UserPoolId=user_pool.pool_id, Username=disabled)
    answer = repair.lambda_handler(scheduled_at(datetime.now(UTC)), context)
    assert disabled not in answer["repaired"]
    assert groups_of(cognito_client, user_pool, disabled) == []


def test_a_user_in_no_group_is_repaired_within_the_window_and_left_there_after_it(
    repair: ModuleType, context: LambdaContext, cognito_client: Any, user_pool: cognito.UserPool
) -> None:
    # moto records UserCreateDate as now: the schedules below fire that long after each user's sign-up.
    revoked = confirmed_user(cognito_client, user_pool, "customer")  # an operator removes them from every group
    cognito_client.admin_remove_user_from_group(UserPoolId=user_pool.pool_id, Username=revoked, GroupName="customer")
    answer = repair.lambda_handler(scheduled_at(datetime.now(UTC) + REPAIR_WINDOW + timedelta(minutes=1)), context)
    assert revoked not in answer["repaired"]
    assert groups_of(cognito_client, user_pool, revoked) == []

    stranded = confirmed_user(cognito_client, user_pool)
    answer = repair.lambda_handler(scheduled_at(datetime.now(UTC) + REPAIR_WINDOW - timedelta(minutes=1)), context)
    assert stranded in answer["repaired"]
    assert groups_of(cognito_client, user_pool, stranded) == ["customer"]
