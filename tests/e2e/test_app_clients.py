"""API Gateway's Cognito authorizer accepts the ID token of any app client of the pool (it checks no audience):
the functions' own check refuses the others, and the local stack lets them through to it, as AWS does."""

from __future__ import annotations

from tests.e2e.conftest import Client
from tools.local.server import DEMO_PASSWORD, DEMO_USERS, LocalStack


def test_an_id_token_of_another_app_client_passes_the_authorizer_and_the_function_refuses_it(
    local: LocalStack, api: Client, customer_token: str
) -> None:
    assert local.stack is not None
    cognito = local.stack.client("cognito-idp")
    other = cognito.create_user_pool_client(
        UserPoolId=local.stack.physical["UserPool"],
        ClientName="someone-elses-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    foreign = cognito.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_USERS["customer"]["username"], "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]["IdToken"]

    status, refusal = api.request("GET", "/orders", token=foreign)

    # The function's answer (dropshop.identity.claims), not the authorizer's: the token reached the handler.
    assert status == 401
    assert refusal == {
        "error": "unauthenticated",
        "message": "token was issued to another app client",
        "field": "Authorization",
    }
    assert api.request("GET", "/orders", token=customer_token)[0] == 200
