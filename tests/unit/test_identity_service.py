"""The identity service against moto's Cognito (in-process): the caller's profile and contact as the directory holds
them now, the sign-up trigger's group, the repair of users it failed to place, and the REST caller's permissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from hypothesis import example, given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.identity import service
from dropshop.identity.directory import UserDirectory
from dropshop.identity.model import Contact, Principal
from dropshop.platform.errors import Forbidden, Unauthenticated
from dropshop.platform.settings import settings
from tests.support import cognito
from tests.support.logs import LogLines
from tests.support.properties import budget


@pytest.fixture
def client(aws_session: boto3.session.Session) -> Iterator[Any]:
    """moto's Cognito, refusing the ListUsers filters Cognito refuses (moto reads them anyway)."""
    with mock_aws():
        cognito_idp = aws_session.client("cognito-idp")
        cognito.refuse_malformed_filters(cognito_idp)
        yield cognito_idp


@pytest.fixture
def pool(client: Any) -> cognito.UserPool:
    return cognito.create_user_pool(client)


def counted(emitted: dict[str, Any], name: str) -> tuple[str, list[float]]:
    return emitted[name]["Unit"], emitted[name]["Value"]


@pytest.fixture
def users(client: Any, pool: cognito.UserPool) -> UserDirectory:
    return UserDirectory(client, pool.pool_id)


def create(client: Any, pool: cognito.UserPool, username: str, *groups: str, **attributes: str) -> str:
    """A confirmed user with `attributes`, in `groups`; their `sub`."""
    client.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=username,
        UserAttributes=[{"Name": name, "Value": value} for name, value in attributes.items()],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=username, Password=cognito.PASSWORD, Permanent=True
    )
    for group in groups:
        client.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=group)
    found = client.admin_get_user(UserPoolId=pool.pool_id, Username=username)["UserAttributes"]
    return str(next(a["Value"] for a in found if a["Name"] == "sub"))


def created_at(client: Any, pool: cognito.UserPool, username: str) -> datetime:
    created: datetime = client.admin_get_user(UserPoolId=pool.pool_id, Username=username)["UserCreateDate"]
    return created


def groups_of(client: Any, pool: cognito.UserPool, username: str) -> list[str]:
    found = client.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=username)["Groups"]
    return sorted(group["GroupName"] for group in found)


def test_the_profile_is_the_directorys_now_not_the_tokens(
    client: Any, pool: cognito.UserPool, users: UserDirectory, emitted: dict[str, Any]
) -> None:
    sub = create(client, pool, "jane", "customer", "admin", email="jane@example.com", name="Jane Doe")
    token_said = Principal(user_id=sub, username="jane", groups=["customer"])
    profile = service.profile(token_said, users)
    assert profile.as_dict() == {
        "userId": sub,
        "username": "jane",
        "email": "jane@example.com",
        "name": "Jane Doe",
        "groups": ["admin", "customer"],
        "permissions": sorted(
            {"catalog:read", "catalog:write", "orders:place", "orders:read:own", "orders:read:any"}
            | {"orders:change-status", "invoices:read:own", "invoices:read:any", "files:read", "telemetry:send"}
            | {"pipeline:write"}
        ),
    }
    assert counted(emitted, "SessionsServed") == ("Count", [1.0])
    assert "SessionsRefused" not in emitted
    # Demoted since sign-in: the current group's permissions, not the token's.
    client.admin_remove_user_from_group(UserPoolId=pool.pool_id, Username="jane", GroupName="admin")
    assert service.profile(token_said, users).permissions == [
        "catalog:read",
        "invoices:read:own",
        "orders:place",
        "orders:read:own",
        "telemetry:send",
    ]


def test_a_user_without_email_or_name_has_a_profile_without_them(
    client: Any, pool: cognito.UserPool, users: UserDirectory
) -> None:
    sub = create(client, pool, "nameless")
    profile = service.profile(Principal(user_id=sub, username="nameless"), users)
    assert (profile.email, profile.name, profile.groups, profile.permissions) == (None, None, [], [])


def test_a_deleted_disabled_or_replaced_user_gets_no_profile(
    client: Any, pool: cognito.UserPool, users: UserDirectory, emitted: dict[str, Any]
) -> None:
    sub = create(client, pool, "jane", "customer", email="jane@example.com")
    principal = Principal(user_id=sub, username="jane")
    client.admin_disable_user(UserPoolId=pool.pool_id, Username="jane")
    with pytest.raises(Unauthenticated) as disabled:
        service.profile(principal, users)
    assert (disabled.value.message, disabled.value.field) == (
        "this user no longer exists or is disabled",
        "Authorization",
    )
    assert counted(emitted, "SessionsRefused") == ("Count", [1.0])
    assert "SessionsServed" not in emitted
    client.admin_enable_user(UserPoolId=pool.pool_id, Username="jane")
    assert service.profile(principal, users).user_id == sub
    client.admin_delete_user(UserPoolId=pool.pool_id, Username="jane")
    with pytest.raises(Unauthenticated):
        service.profile(principal, users)
    # Someone else signed up with the name since: the old token's `sub` is not theirs.
    create(client, pool, "jane", "customer", email="other@example.com")
    with pytest.raises(Unauthenticated):
        service.profile(principal, users)


def test_the_contact_is_the_directorys_email_and_name(
    client: Any, pool: cognito.UserPool, users: UserDirectory
) -> None:
    verified = create(client, pool, "jane", email="jane@example.com", email_verified="true", name="Jane Doe")
    unverified = create(client, pool, "joe", email="joe@example.com", email_verified="false")
    silent = create(client, pool, "mute")
    assert service.contact(verified, users) == Contact(
        user_id=verified, email="jane@example.com", name="Jane Doe", email_verified=True
    )
    assert service.contact(unverified, users) == Contact(
        user_id=unverified, email="joe@example.com", name=None, email_verified=False
    )
    assert service.contact(silent, users) is None  # no e-mail address: nobody to write to
    assert service.contact(str(uuid.uuid4()), users) is None  # gone
    # Not a sub: never quoted into ListUsers' filter, whose syntax it would break (or widen).
    assert service.contact(f'{verified}" or sub ^= "', users) is None
    assert service.contact(f"{verified}\\", users) is None


def test_cognito_refuses_a_list_users_filter_with_an_unescaped_quotation_mark(
    client: Any, pool: cognito.UserPool
) -> None:
    # What the lookups below face: Cognito's parse, which moto alone does not apply.
    for malformed in ('sub = "a" or sub ^= ""', 'sub = "a\\"', "sub = a", 'sub "a"'):
        with pytest.raises(client.exceptions.InvalidParameterException):
            client.list_users(UserPoolId=pool.pool_id, Filter=malformed)
    assert client.list_users(UserPoolId=pool.pool_id, Filter='sub = "a\\"b"')["Users"] == []


@pytest.fixture
def jane(client: Any, pool: cognito.UserPool) -> str:
    return create(client, pool, "jane", email="jane@example.com", name="Jane Doe")


@budget(40)
@given(suffix=st.text(st.sampled_from('"\\ ^=or') | st.characters(codec="utf-8"), min_size=1, max_size=16))
@example(suffix='" or sub ^= "')
@example(suffix='"')
@example(suffix="\\")
@example(suffix="\n")  # moto's filter parse refuses a line break too
def test_a_user_id_finds_its_own_user_or_nobody(users: UserDirectory, jane: str, suffix: str) -> None:
    """Whatever bytes a user id holds (what an order recorded), the lookup answers, without widening ListUsers'
    filter (`sub ^= ""` would match everyone) or making Cognito refuse it."""
    assert service.contact(jane, users) is not None
    assert service.contact(jane + suffix, users) is None
    assert service.contact(suffix, users) is None


def test_only_a_confirmed_sign_up_joins_the_customer_group(
    client: Any, pool: cognito.UserPool, emitted: dict[str, Any]
) -> None:
    create(client, pool, "jane")
    create(client, pool, "joe")
    forgot = service.welcome("PostConfirmation_ConfirmForgotPassword", user_pool_id=pool.pool_id, username="joe")
    assert forgot is False
    assert groups_of(client, pool, "joe") == []
    assert "CustomersSignedUp" not in emitted
    assert service.welcome("PostConfirmation_ConfirmSignUp", user_pool_id=pool.pool_id, username="jane") is True
    assert groups_of(client, pool, "jane") == ["customer"]
    assert counted(emitted, "CustomersSignedUp") == ("Count", [1.0])


def test_the_repair_places_new_confirmed_users_in_no_group_and_nobody_else(
    client: Any, pool: cognito.UserPool, users: UserDirectory, emitted: dict[str, Any], logs: LogLines
) -> None:
    for name in ("zoe", "amy"):
        create(client, pool, name)
    create(client, pool, "shopper", "customer")
    create(client, pool, "boss", "admin")
    create(client, pool, "revoked")
    client.admin_disable_user(UserPoolId=pool.pool_id, Username="revoked")
    client.admin_create_user(UserPoolId=pool.pool_id, Username="pending", MessageAction="SUPPRESS")
    as_of = created_at(client, pool, "amy") + timedelta(minutes=15)

    assert service.repair_groups(as_of.isoformat(), users) == ["amy", "zoe"]  # sorted; a schedule's ISO time
    assert [groups_of(client, pool, name) for name in ("amy", "zoe", "shopper", "boss", "revoked", "pending")] == [
        ["customer"],
        ["customer"],
        ["customer"],
        ["admin"],
        [],
        [],
    ]
    assert service.repair_groups(as_of, users) == []  # the next schedule: nobody twice
    assert counted(emitted, "CustomersRepaired") == ("Count", [2.0, 0.0])
    repaired = logs.with_message("confirmed user in no group joined customer")
    assert [(line["level"], line["username"]) for line in repaired] == [("WARNING", "amy"), ("WARNING", "zoe")]


def test_the_repair_leaves_users_older_than_its_window_alone(
    client: Any, pool: cognito.UserPool, users: UserDirectory
) -> None:
    create(client, pool, "old")
    created = created_at(client, pool, "old")
    assert service.repair_groups(created + service.REPAIR_WINDOW + timedelta(seconds=1), users) == []
    assert groups_of(client, pool, "old") == []
    assert service.repair_groups(created + service.REPAIR_WINDOW, users) == ["old"]  # the window's first instant


def request(claims: dict[str, str] | None, headers: dict[str, str] | None = None) -> APIGatewayProxyEvent:
    context: dict[str, Any] = {"authorizer": {"claims": claims} if claims else {}}
    return APIGatewayProxyEvent({"requestContext": context, "headers": headers or {}})


def claims(groups: str) -> dict[str, str]:
    return {
        "sub": "8f1c2d3e-0000-4000-8000-000000000001",
        "cognito:username": "jane",
        "cognito:groups": groups,
        "token_use": "id",
        "aud": settings().user_pool_client_id,
    }


def test_a_rest_caller_needs_one_of_the_permissions() -> None:
    customer = request(claims("customer"))
    assert service.authorize(customer, "orders:place").username == "jane"
    assert service.authorize(customer, "catalog:write", "orders:place").groups == ["customer"]
    with pytest.raises(Forbidden) as refused:
        service.authorize(customer, "catalog:write", "orders:read:any")
    assert refused.value.message == "this needs the catalog:write or orders:read:any permission"
    assert refused.value.field == "Authorization"
    assert service.may(service.caller(request(claims("admin"))), "catalog:write")
    assert not service.may(service.caller(customer), "catalog:write")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing bearer token"), ({"Authorization": "Bearer not-a-jwt"}, "token is invalid: ")],
)
def test_without_an_authorizer_the_bearer_token_is_verified_here(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        service.caller(request(None, headers))
    assert refused.value.message.startswith(reason)
    assert refused.value.field == "Authorization"


def test_an_absent_or_refused_token_makes_an_anonymous_caller(emitted: dict[str, Any], logs: LogLines) -> None:
    assert service.identify(None) is None
    assert service.identify("") is None
    assert emitted == {}  # no token is no refusal
    assert logs.with_message("treating caller as anonymous") == []
    assert service.identify("not-a-jwt") is None
    (anonymous,) = logs.with_message("treating caller as anonymous")
    assert anonymous["level"] == "INFO"
    assert anonymous["reason"].startswith("token is invalid: ")
    assert counted(emitted, "TokensRefused") == ("Count", [1.0])
    with pytest.raises(Unauthenticated):
        service.authenticate("not-a-jwt")
    assert counted(emitted, "TokensRefused") == ("Count", [1.0, 1.0])
