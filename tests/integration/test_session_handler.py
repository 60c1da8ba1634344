"""GET /session through the handler, fed with events/session/*, against moto's Cognito."""

from __future__ import annotations

import json
import uuid
from types import ModuleType
from typing import Any

import pytest

from tests.support import cognito
from tests.support.events import load_event
from tools.local.lambda_context import LambdaContext

FRONTEND = "http://localhost:5173"


@pytest.fixture(scope="module")
def session_app(load_handler: Any) -> ModuleType:
    module: ModuleType = load_handler("session")
    return module


def get_session(app: ModuleType, context: LambdaContext, user: cognito.SignedInUser) -> dict[str, Any]:
    event = load_event("session/get-session", ID_TOKEN=user.id_token, SUB=user.sub, USERNAME=user.username)
    response: dict[str, Any] = app.lambda_handler(event, context)
    return response


def test_customer_gets_their_profile_groups_and_permissions(
    session_app: ModuleType, context: LambdaContext, customer: cognito.SignedInUser
) -> None:
    response = get_session(session_app, context, customer)
    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == [FRONTEND]
    profile = json.loads(response["body"])
    assert profile["userId"] == customer.sub
    assert profile["username"] == "jane"
    # Not in moto's ID token: read from the user directory, as the real pool's current attributes.
    assert profile["email"] == "jane.doe@example.com"
    assert profile["name"] == "Jane Doe"
    assert profile["groups"] == ["customer"]
    assert "orders:place" in profile["permissions"]
    assert "catalog:write" not in profile["permissions"]


def test_admin_profile_carries_admin_permissions(
    session_app: ModuleType, context: LambdaContext, admin: cognito.SignedInUser
) -> None:
    profile = json.loads(get_session(session_app, context, admin)["body"])
    assert profile["groups"] == ["admin"]
    assert {"catalog:write", "orders:change-status"} <= set(profile["permissions"])


@pytest.mark.parametrize(
    ("event_name", "reason"),
    [
        ("session/no-token", "missing bearer token"),
        ("session/forged-token", "token signature is invalid"),
    ],
)
def test_requests_without_a_valid_token_get_401_with_a_json_reason(
    session_app: ModuleType, context: LambdaContext, event_name: str, reason: str
) -> None:
    response = session_app.lambda_handler(load_event(event_name), context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {"error": "unauthenticated", "message": reason, "field": "Authorization"}
    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == [FRONTEND]


def test_a_token_from_another_user_pool_gets_401(
    session_app: ModuleType, context: LambdaContext, cognito_client: Any
) -> None:
    other_pool = cognito.create_user_pool(cognito_client, name="someone-elses-pool")
    stranger = cognito.sign_up(cognito_client, other_pool, "mallory", email="m@evil.test", name="M", groups=[])
    response = get_session(session_app, context, stranger)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["message"] in {
        "token issued by another user pool",
        "token issued for another app client",
    }


def test_a_malformed_authorization_header_gets_401(session_app: ModuleType, context: LambdaContext) -> None:
    event = load_event("session/no-token")
    event["headers"]["Authorization"] = "Bearer not.a.jwt"
    response = session_app.lambda_handler(event, context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["field"] == "Authorization"


@pytest.fixture
def fresh_user(cognito_client: Any, user_pool: cognito.UserPool) -> cognito.SignedInUser:
    """A user of their own: these tests disable, delete or demote them."""
    name = f"sam-{uuid.uuid4().hex[:8]}"
    return cognito.sign_up(cognito_client, user_pool, name, email=f"{name}@example.com", name="Sam", groups=["admin"])


@pytest.mark.parametrize("change", ["admin_disable_user", "admin_delete_user"])
def test_a_user_disabled_or_deleted_since_sign_in_gets_401_with_their_still_unexpired_token(
    session_app: ModuleType,
    context: LambdaContext,
    cognito_client: Any,
    user_pool: cognito.UserPool,
    fresh_user: cognito.SignedInUser,
    change: str,
) -> None:
    assert get_session(session_app, context, fresh_user)["statusCode"] == 200
    getattr(cognito_client, change)(UserPoolId=user_pool.pool_id, Username=fresh_user.username)

    response = get_session(session_app, context, fresh_user)

    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {
        "error": "unauthenticated",
        "message": "this user no longer exists or is disabled",
        "field": "Authorization",
    }


def test_a_demoted_admin_gets_their_current_groups_and_permissions_at_once(
    session_app: ModuleType,
    context: LambdaContext,
    cognito_client: Any,
    user_pool: cognito.UserPool,
    fresh_user: cognito.SignedInUser,
) -> None:
    cognito_client.admin_remove_user_from_group(
        UserPoolId=user_pool.pool_id, Username=fresh_user.username, GroupName="admin"
    )
    cognito_client.admin_add_user_to_group(
        UserPoolId=user_pool.pool_id, Username=fresh_user.username, GroupName="customer"
    )

    profile = json.loads(get_session(session_app, context, fresh_user)["body"])

    assert profile["groups"] == ["customer"]
    assert "catalog:write" not in profile["permissions"]
    assert "orders:place" in profile["permissions"]


def test_a_deleted_users_token_does_not_open_the_session_of_a_new_user_with_the_same_name(
    session_app: ModuleType,
    context: LambdaContext,
    cognito_client: Any,
    user_pool: cognito.UserPool,
    fresh_user: cognito.SignedInUser,
) -> None:
    cognito_client.admin_delete_user(UserPoolId=user_pool.pool_id, Username=fresh_user.username)
    cognito.sign_up(
        cognito_client, user_pool, fresh_user.username, email="someone@example.com", name="Someone", groups=[]
    )

    assert get_session(session_app, context, fresh_user)["statusCode"] == 401
