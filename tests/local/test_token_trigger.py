"""The local stack's emulation of Cognito's pre token generation trigger (tools.local.token_trigger), around
moto's own server app in-process: which answers it rewrites, the event it builds, and a failing trigger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from tools.local.token_trigger import PreTokenGeneration, run_layer_trigger

PASSWORD = "Correct-Horse-42"
PIPELINE_WRITE = "dropshop/pipeline.write"
V2 = {
    "PreTokenGenerationConfig": {
        "LambdaArn": "arn:aws:lambda:eu-west-1:123456789012:function:t:live",
        "LambdaVersion": "V2_0",
    }
}


@pytest.fixture
def cognito(aws_session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # In-process moto, the backend the app below serves: not a moto server an earlier suite pointed AWS_ENDPOINT_URL at.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield aws_session.client("cognito-idp")


def pool_with(cognito: Any, lambda_config: dict[str, Any] | None) -> tuple[str, str]:
    pool = cognito.create_user_pool(PoolName="users", **({"LambdaConfig": lambda_config} if lambda_config else {}))
    pool_id = pool["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName="admin")
    return pool_id, client_id


def add_user(cognito: Any, pool_id: str, username: str, groups: list[str], *, permanent: bool = True) -> None:
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        TemporaryPassword=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        MessageAction="SUPPRESS",
    )
    if permanent:
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


class Recorder:
    """The layer's trigger, with the events it was sent kept."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(json.loads(json.dumps(event)))
        return run_layer_trigger(event)


def call(app: Any, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = Client(app).post(
        "/",
        data=json.dumps(body),
        headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Host": "cognito-idp.eu-west-1.amazonaws.com",
        },
    )
    return response.status_code, json.loads(response.get_data())


def sign_in(app: Any, client_id: str, username: str) -> tuple[int, dict[str, Any]]:
    parameters = {"USERNAME": username, "PASSWORD": PASSWORD}
    return call(
        app, "InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": parameters}
    )


def scopes(answer: dict[str, Any]) -> list[str]:
    token = answer["AuthenticationResult"]["AccessToken"]
    return str(jwt.decode(token, options={"verify_signature": False})["scope"]).split()


def test_an_admins_sign_in_gets_the_scope_with_every_other_claim_unchanged(cognito: Any) -> None:
    pool_id, client_id = pool_with(cognito, V2)
    add_user(cognito, pool_id, "ada", ["admin"])
    recorder = Recorder()
    moto = DomainDispatcherApplication(create_backend_app)

    status, plain = sign_in(moto, client_id, "ada")
    assert status == 200, plain
    status, scoped = sign_in(PreTokenGeneration(moto, recorder), client_id, "ada")

    assert status == 200, scoped
    assert scopes(scoped) == ["aws.cognito.signin.user.admin", PIPELINE_WRITE]
    before, after = (
        jwt.decode(a["AuthenticationResult"]["AccessToken"], options={"verify_signature": False})
        for a in (plain, scoped)
    )
    assert {k: v for k, v in after.items() if k not in {"scope", "jti", "iat", "exp", "auth_time", "origin_jti"}} == {
        k: v for k, v in before.items() if k not in {"scope", "jti", "iat", "exp", "auth_time", "origin_jti"}
    }
    (event,) = recorder.events
    assert (event["version"], event["triggerSource"], event["userPoolId"]) == (
        "2",
        "TokenGeneration_Authentication",
        pool_id,
    )
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["groupConfiguration"]["groupsToOverride"] == ["admin"]
    assert event["request"]["userAttributes"]["email"] == "ada@example.com"
    # moto still knows the re-signed token as one it issued.
    assert cognito.get_user(AccessToken=scoped["AuthenticationResult"]["AccessToken"])["Username"] == "ada"


def test_a_refresh_is_scoped_by_the_groups_the_user_has_now(cognito: Any) -> None:
    pool_id, client_id = pool_with(cognito, V2)
    add_user(cognito, pool_id, "ada", ["admin"])
    recorder = Recorder()
    app = PreTokenGeneration(DomainDispatcherApplication(create_backend_app), recorder)
    refresh_token = sign_in(app, client_id, "ada")[1]["AuthenticationResult"]["RefreshToken"]
    cognito.admin_remove_user_from_group(UserPoolId=pool_id, Username="ada", GroupName="admin")

    status, refreshed = call(
        app,
        "InitiateAuth",
        {"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh_token}},
    )

    assert status == 200
    assert scopes(refreshed) == ["aws.cognito.signin.user.admin"]
    assert recorder.events[-1]["triggerSource"] == "TokenGeneration_RefreshTokens"
    assert recorder.events[-1]["request"]["groupConfiguration"]["groupsToOverride"] == []


def test_a_new_password_challenge_runs_the_trigger_when_it_issues_the_tokens(cognito: Any) -> None:
    pool_id, client_id = pool_with(cognito, V2)
    add_user(cognito, pool_id, "ada", ["admin"], permanent=False)
    recorder = Recorder()
    app = PreTokenGeneration(DomainDispatcherApplication(create_backend_app), recorder)

    status, challenge = sign_in(app, client_id, "ada")
    assert (status, challenge["ChallengeName"], recorder.events) == (200, "NEW_PASSWORD_REQUIRED", [])
    status, answered = call(
        app,
        "RespondToAuthChallenge",
        {
            "ClientId": client_id,
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": challenge["Session"],
            "ChallengeResponses": {"USERNAME": "ada", "NEW_PASSWORD": PASSWORD + "!"},
        },
    )

    assert status == 200
    assert PIPELINE_WRITE in scopes(answered)
    assert [e["triggerSource"] for e in recorder.events] == ["TokenGeneration_NewPasswordChallenge"]


@pytest.mark.parametrize(
    "lambda_config", [None, {"PreTokenGenerationConfig": {**V2["PreTokenGenerationConfig"], "LambdaVersion": "V1_0"}}]
)
def test_pools_without_an_access_token_trigger_get_moto_answers_untouched(cognito: Any, lambda_config: Any) -> None:
    pool_id, client_id = pool_with(cognito, lambda_config)
    add_user(cognito, pool_id, "ada", ["admin"])
    recorder = Recorder()

    status, answer = sign_in(
        PreTokenGeneration(DomainDispatcherApplication(create_backend_app), recorder), client_id, "ada"
    )

    assert status == 200
    assert scopes(answer) == ["aws.cognito.signin.user.admin"]
    assert recorder.events == []


def test_a_failing_trigger_fails_the_sign_in_and_issues_no_token(cognito: Any) -> None:
    pool_id, client_id = pool_with(cognito, V2)
    add_user(cognito, pool_id, "ada", ["admin"])

    def broken(event: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("groupConfiguration")

    status, answer = sign_in(
        PreTokenGeneration(DomainDispatcherApplication(create_backend_app), broken), client_id, "ada"
    )

    assert status == 400
    assert answer["__type"] == "UserLambdaValidationException"
    assert "AuthenticationResult" not in answer
