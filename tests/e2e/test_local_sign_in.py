"""A browser app signs up and signs in against the local stack as it does against Cognito.

amazon-cognito-identity-js (`new CognitoUserPool({UserPoolId, ClientId, endpoint})`) and AWS Amplify
(`userPoolEndpoint`) send unsigned JSON-1.1 POSTs to the pool's endpoint: these are those requests, sent to
moto's server, whose address, pool id and client id `.local/stack.json` gives (docs/local.md).
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import jwt

from tests.e2e.conftest import Client
from tools.local.server import LocalStack


def cognito(local: LocalStack, action: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - moto's server on 127.0.0.1
        local.endpoint + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
            "X-Amz-User-Agent": "aws-amplify/6.0.0 auth/1 framework/1",
            "Origin": "http://localhost:5173",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


def test_moto_admits_the_browsers_preflight(local: LocalStack) -> None:
    request = urllib.request.Request(  # noqa: S310 - moto's server on 127.0.0.1
        local.endpoint + "/",
        method="OPTIONS",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert "x-amz-target" in response.headers["Access-Control-Allow-Headers"]


def test_sign_up_confirm_and_sign_in_as_the_browser_libraries_do(local: LocalStack, api: Client) -> None:
    state = json.loads((local.state_dir / "stack.json").read_text())
    client_id, username, password = state["userPoolClientId"], f"grace-{time.time_ns()}", "DropShop-Local-1"
    cognito(
        local,
        "SignUp",
        {
            "ClientId": client_id,
            "Username": username,
            "Password": password,
            "UserAttributes": [
                {"Name": "email", "Value": f"{username}@example.com"},
                {"Name": "name", "Value": "Grace"},
            ],
        },
    )
    # Locally no e-mail leaves the machine: moto accepts any confirmation code.
    cognito(local, "ConfirmSignUp", {"ClientId": client_id, "Username": username, "ConfirmationCode": "123456"})
    signed_in = cognito(
        local,
        "InitiateAuth",
        {
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
    )["AuthenticationResult"]

    claims = jwt.decode(signed_in["IdToken"], options={"verify_signature": False})
    assert claims["cognito:username"] == username
    status, session = api.request("GET", "/session", token=signed_in["IdToken"])
    assert (status, session["username"]) == (200, username)
