"""The caller from the claims API Gateway's Cognito authorizer passes on, and the local gateway passing them the
same way: every value a string, `cognito:groups` joined by commas, `exp`/`iat` as Java prints a date."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.identity.claims import groups_from_claim, principal_from_claims
from dropshop.identity.model import permissions_for
from dropshop.platform.errors import Unauthenticated
from dropshop.platform.settings import settings
from tools.local.gateway import authorizer_claims

ROOT = Path(__file__).resolve().parents[2]

# Cognito group names: letters, marks, symbols, numbers, punctuation, 1-128 of them. A comma inside a name
# cannot survive API Gateway's comma-joined claim on AWS either; this shop's groups are customer and admin.
group_names = st.text(
    alphabet=st.characters(categories=["L", "M", "S", "N", "P"], exclude_characters=","), min_size=1, max_size=128
)
claim_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=8,
)


def id_token_claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": "8f1c2d3e-0000-4000-8000-000000000001",
        "cognito:username": "jane",
        "cognito:groups": ["customer"],
        "email_verified": True,
        "token_use": "id",
        "aud": settings().user_pool_client_id,
        "auth_time": 1680629979,
        "iat": 1680629979,
        "exp": 1680633579,
    }
    claims.update(overrides)
    return claims


@given(groups=st.lists(group_names, max_size=5), sub=st.uuids(), username=st.text(min_size=1, max_size=128))
@example(groups=["admin", "customer"], sub=None, username="ada")
@example(groups=[], sub=None, username="jane")
def test_the_caller_from_passed_claims_is_the_tokens_caller(groups: list[str], sub: object, username: str) -> None:
    subject = str(sub or "8f1c2d3e-0000-4000-8000-000000000001")
    passed = authorizer_claims(id_token_claims(sub=subject, **{"cognito:groups": groups, "cognito:username": username}))
    principal = principal_from_claims(passed)
    assert (principal.user_id, principal.username, principal.groups) == (subject, username, groups)


@given(username=claim_values.filter(lambda value: not (isinstance(value, str) and value)))
@example(username="")
@example(username=None)
def test_a_caller_without_a_username_string_is_named_by_their_sub(username: object) -> None:
    claims: dict[str, object] = {
        k: v for k, v in authorizer_claims(id_token_claims()).items() if k != "cognito:username"
    }
    if username is not None:
        claims["cognito:username"] = username
    principal = principal_from_claims(claims)
    assert (principal.user_id, principal.username) == (claims["sub"], claims["sub"])


@given(claims=st.dictionaries(st.text(max_size=20), claim_values, max_size=8))
def test_the_local_gateway_passes_every_claim_as_a_string(claims: dict[str, object]) -> None:
    passed = authorizer_claims(claims)
    assert set(passed) == set(claims)
    assert all(isinstance(value, str) for value in passed.values())


def test_claims_arrive_as_api_gateway_renders_them() -> None:
    passed = authorizer_claims(id_token_claims(**{"cognito:groups": ["admin", "customer"]}))
    assert passed["cognito:groups"] == "admin,customer"
    assert passed["exp"] == "Tue Apr 04 18:39:39 UTC 2023"
    assert passed["email_verified"] == "true"
    assert passed["auth_time"] == "1680629979"


def test_one_group_arrives_as_its_bare_name() -> None:
    assert authorizer_claims(id_token_claims())["cognito:groups"] == "customer"
    assert groups_from_claim("admin") == ["admin"]


@pytest.mark.parametrize("claim", ["[admin customer]", '["admin"]', "", None, ["admin"], 1])
def test_groups_in_any_other_format_grant_nothing(claim: object) -> None:
    assert permissions_for(groups_from_claim(claim)) == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"token_use": "access"}, "an ID token is required"),
        ({"token_use": None}, "an ID token is required"),
        ({"sub": ""}, "token names no subject"),
        ({"sub": None}, "token names no subject"),
        # Any app client of the pool passes the authorizer; only the web client's ID tokens make callers.
        ({"aud": "another-app-client"}, "token was issued to another app client"),
        ({"aud": None}, "token was issued to another app client"),
    ],
)
def test_claims_that_are_not_an_id_tokens_are_refused_with_401(overrides: dict[str, object], reason: str) -> None:
    claims = {k: v for k, v in authorizer_claims(id_token_claims()).items() if k not in overrides}
    claims.update({k: v for k, v in overrides.items() if v is not None})
    with pytest.raises(Unauthenticated) as refused:
        principal_from_claims(claims)
    assert (refused.value.status, refused.value.message, refused.value.field) == (401, reason, "Authorization")


def test_a_caller_with_claims_is_identified_without_loading_the_token_verifier() -> None:
    # A fresh interpreter, as a cold start: neither the handler's import nor authorizing loads PyJWT.
    script = textwrap.dedent(
        """
        import sys
        from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
        from dropshop.identity import service as identity
        claims = {"sub": "u-1", "aud": "web", "cognito:username": "ada", "cognito:groups": "admin", "token_use": "id"}
        event = APIGatewayProxyEvent({"headers": {}, "requestContext": {"authorizer": {"claims": claims}}})
        admin = identity.authorize(event, "catalog:write")
        print(admin.user_id, admin.groups, "jwt" in sys.modules, "dropshop.identity.tokens" in sys.modules)
        """
    )
    env = {
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}",
        "AWS_REGION": "eu-west-1",
        "USER_POOL_CLIENT_ID": "web",
        "PATH": "/usr/bin:/bin",
    }
    ran = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert ran.stdout.split() == ["u-1", "['admin']", "False", "False"]
