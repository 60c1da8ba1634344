"""POST /writer through the local gateway, whose JWT authorizer applies the template's rule as API Gateway does:
a token of the pool carrying the `dropshop/pipeline.write` scope, obtained by a batch job with its client
credentials at the pool's token endpoint (tools.local.oauth2, moto has none), or an admin's access token, which
the pool's pre token generation trigger scopes at every sign-in and refresh (tools.local.token_trigger runs
it in moto's server, which has none either)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from xml.etree import ElementTree

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.commerce.conftest import SCOPE, Shop, batch_job, machine_token, request_token
from tests.support.properties import budget
from tools.local.oauth2 import signing_key

RECORD = {"id": "acc-1", "name": "Ada", "email": "ada@example.com", "status": "active", "balanceCents": 100}


def user_tokens(shop: Shop, user: str) -> dict[str, str]:
    from tests.support.cognito import PASSWORD

    tokens: dict[str, str] = shop.stack.client("cognito-idp").initiate_auth(
        ClientId=shop.stack.physical["UserPoolClient"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": shop.users[user].username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return tokens


def user_access_token(shop: Shop, user: str) -> str:
    return user_tokens(shop, user)["AccessToken"]


def refreshed_access_token(shop: Shop, refresh_token: str) -> str:
    tokens = shop.stack.client("cognito-idp").initiate_auth(
        ClientId=shop.stack.physical["UserPoolClient"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )["AuthenticationResult"]
    return str(tokens["AccessToken"])


def scopes(token: str) -> list[str]:
    return str(jwt.decode(token, options={"verify_signature": False})["scope"]).split()


def post_writer(shop: Shop, token: str | None) -> tuple[int, Any]:
    """The status and answer: refusals are the HTTP API's JSON; a 200 is SQS's XML SendMessageResponse, passed
    through as AWS's SQS-SendMessage integration does, read here as its MessageId."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = shop.client.post("/writer", data=json.dumps(RECORD), headers=headers, content_type="application/json")
    if response.status_code != 200:
        return response.status_code, json.loads(response.get_data() or b"null")
    answer = ElementTree.fromstring(response.get_data())  # noqa: S314 - the local gateway's answer
    message_id = answer.findtext("sqs:SendMessageResult/sqs:MessageId", namespaces=SQS_NAMESPACE)
    return response.status_code, {"MessageId": message_id}


SQS_NAMESPACE = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


def queued(shop: Shop) -> int:
    attributes = shop.stack.client("sqs").get_queue_attributes(
        QueueUrl=shop.stack.physical["WriterQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_batch_jobs_client_credentials_token_queues_the_record(shop: Shop) -> None:
    token = machine_token(shop)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["token_use"], claims["scope"], claims["client_id"]) == ("access", SCOPE, batch_job(shop)[0])

    status, sent = post_writer(shop, token)

    assert status == 200, sent
    assert sent["MessageId"]
    assert queued(shop) == 1


def test_shoppers_tokens_and_every_id_token_are_forbidden_and_queue_nothing(shop: Shop) -> None:
    for token in (
        shop.users["customer"].id_token,
        user_access_token(shop, "customer"),
        shop.users["admin"].id_token,  # an ID token carries no scope, whatever the groups
    ):
        assert post_writer(shop, token) == (403, {"message": "Forbidden"})
    assert queued(shop) == 0


def test_an_admins_access_token_carries_the_pipeline_scope_and_queues_the_record(shop: Shop) -> None:
    token = user_access_token(shop, "admin")
    assert scopes(token) == ["aws.cognito.signin.user.admin", SCOPE]
    assert scopes(user_access_token(shop, "customer")) == ["aws.cognito.signin.user.admin"]

    status, sent = post_writer(shop, token)

    assert status == 200, sent
    assert sent["MessageId"]
    assert queued(shop) == 1


def test_a_demoted_admin_loses_the_scope_at_the_next_refresh_or_sign_in(shop: Shop) -> None:
    cognito = shop.stack.client("cognito-idp")
    before = user_tokens(shop, "admin")
    cognito.admin_remove_user_from_group(
        UserPoolId=shop.stack.physical["UserPool"], Username=shop.users["admin"].username, GroupName="admin"
    )

    refreshed = refreshed_access_token(shop, before["RefreshToken"])
    assert SCOPE not in scopes(refreshed)
    assert post_writer(shop, refreshed) == (403, {"message": "Forbidden"})
    assert post_writer(shop, user_access_token(shop, "admin")) == (403, {"message": "Forbidden"})
    assert queued(shop) == 0
    # What no trigger can take back: the access token issued before the demotion, until it expires (15 min).
    assert post_writer(shop, before["AccessToken"])[0] == 200


def test_a_promoted_customer_gains_the_scope_at_the_next_refresh(shop: Shop) -> None:
    before = user_tokens(shop, "customer")
    shop.stack.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=shop.stack.physical["UserPool"], Username=shop.users["customer"].username, GroupName="admin"
    )

    assert post_writer(shop, before["AccessToken"]) == (403, {"message": "Forbidden"})
    assert post_writer(shop, refreshed_access_token(shop, before["RefreshToken"]))[0] == 200


def test_anonymous_forged_and_expired_tokens_are_unauthorized(shop: Shop) -> None:
    now = int(time.time())
    client_id = batch_job(shop)[0]
    issuer = f"https://cognito-idp.{shop.stack.region}.amazonaws.com/{shop.stack.physical['UserPool']}"
    claims = {"sub": client_id, "client_id": client_id, "token_use": "access", "scope": SCOPE, "iss": issuer}
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims | {"iat": now, "exp": now + 600}, stranger, "RS256", headers={"kid": "dummy"})
    expired = jwt.encode(claims | {"iat": now - 7200, "exp": now - 3600}, signing_key(), "RS256", {"kid": "dummy"})
    other_pool = jwt.encode(
        claims | {"iss": issuer + "x", "iat": now, "exp": now + 600}, signing_key(), "RS256", {"kid": "dummy"}
    )
    other_client = jwt.encode(
        claims | {"client_id": "someone-else", "iat": now, "exp": now + 600}, signing_key(), "RS256", {"kid": "dummy"}
    )
    for token in (None, "not-a-jwt", forged, expired, other_pool, other_client):
        assert post_writer(shop, token) == (401, {"message": "Unauthorized"}), token
    assert queued(shop) == 0


@pytest.mark.parametrize(
    ("credentials", "form", "error"),
    [
        ("wrong secret", {"scope": SCOPE}, "invalid_client"),
        ("web client", {"scope": SCOPE}, "invalid_client"),  # a public client has no secret to present
        ("batch job", {"scope": "aws.cognito.signin.user.admin"}, "invalid_scope"),
        ("batch job", {"scope": f"{SCOPE} dropshop/admin"}, "invalid_scope"),
        ("batch job", {"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_the_token_endpoint_grants_only_the_batch_jobs_own_scope_to_its_own_secret(
    shop: Shop, credentials: str, form: dict[str, str], error: str
) -> None:
    client_id, secret = batch_job(shop)
    if credentials == "wrong secret":
        secret = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    elif credentials == "web client":
        client_id, secret = shop.stack.physical["UserPoolClient"], "guess"
    assert request_token(shop, client_id, secret, **form) == (400, {"error": error})


# What an HTTP header value can carry (no CR/LF); tokens are base64url with two dots.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=300)
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TOKENISH = st.lists(st.text(BASE64URL, max_size=80), max_size=4)


@budget(40)
@given(header=st.one_of(HEADER_TEXT, TOKENISH.map(lambda parts: "Bearer " + ".".join(parts))))
def test_no_made_up_authorization_header_gets_a_record_queued(shop: Shop, header: str) -> None:
    response = shop.client.post("/writer", data=json.dumps(RECORD), headers={"Authorization": header})
    assert response.status_code == 401
    assert queued(shop) == 0


@budget(25)
@given(data=st.data())
def test_a_batch_jobs_token_altered_anywhere_is_refused(shop: Shop, data: st.DataObject) -> None:
    token = machine_token(shop)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("AQgw-_."))
    altered = token[:position] + replacement + token[position + 1 :]
    if _decoded(altered) != _decoded(token):  # a segment's last character may carry unused bits only
        assert post_writer(shop, altered)[0] == 401
    assert queued(shop) == 0


def _decoded(token: str) -> list[bytes] | None:
    try:
        return [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")]
    except ValueError:
        return None
