"""Who calls a REST route: the claims API Gateway's Cognito authorizer passed on where it stands, the bearer token
verified by the function where none does (`sam local start-api` runs no Cognito authorizer)."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from tests.integration.commerce.conftest import Shop, machine_token
from tests.support import cognito
from tests.support.events import load_event
from tools.local.gateway import authorizer_claims
from tools.local.lambda_context import LambdaContext

FORGED = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsImNvZ25pdG86Z3JvdXBzIjpbImFkbWluIl19."


def start_api_event(shop: Shop, name: str, as_user: str | None, token: str | None = None) -> dict[str, Any]:
    """A sample event as `sam local start-api` builds it: no `requestContext.authorizer`, the header as sent."""
    event = load_event(name, **shop.users["admin"].placeholders)
    del event["requestContext"]["authorizer"]
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    event["multiValueHeaders"] = {k: v for k, v in event["multiValueHeaders"].items() if k != "Authorization"}
    bearer = token or (shop.users[as_user].id_token if as_user else None)
    if bearer:
        event["headers"]["Authorization"] = f"Bearer {bearer}"
        event["multiValueHeaders"]["Authorization"] = [f"Bearer {bearer}"]
    return event


@pytest.mark.parametrize(
    ("as_user", "token", "expected"),
    [("admin", None, 201), ("customer", None, 403), (None, None, 401), (None, FORGED, 401), (None, "not-a-jwt", 401)],
)
def test_without_an_authorizer_the_function_verifies_the_bearer_token(
    shop: Shop, as_user: str | None, token: str | None, expected: int
) -> None:
    response = shop.wiring.invoke("ProductsFunction", start_api_event(shop, "products/add-product", as_user, token))
    assert response["statusCode"] == expected, response["body"]
    if expected == 401:
        assert json.loads(response["body"])["field"] == "Authorization"


def test_without_an_authorizer_a_customer_places_and_reads_their_order_by_token(shop: Shop) -> None:
    product_id = shop.add_product(stock=3)
    event = start_api_event(shop, "orders/place-order", "customer")
    event["body"] = json.dumps({"lines": [{"productId": product_id, "quantity": 1}]})
    placed = shop.wiring.invoke("OrdersFunction", event)
    assert placed["statusCode"] == 201, placed["body"]
    assert json.loads(placed["body"])["customerId"] == shop.users["customer"].sub


def test_behind_the_authorizer_its_claims_decide_and_the_token_is_not_verified_again(shop: Shop) -> None:
    # API Gateway verified the token before the function ran and passed its claims: the function trusts them
    # (clients cannot write requestContext) and does not read the Authorization header at all.
    admin = shop.users["admin"]
    event = load_event("products/add-product", **{**admin.placeholders, "ID_TOKEN": "expired-or-garbage"})
    assert shop.wiring.invoke("ProductsFunction", event)["statusCode"] == 201

    customer_claims = load_event("products/add-product", **shop.users["customer"].placeholders)
    assert shop.wiring.invoke("ProductsFunction", customer_claims)["statusCode"] == 403


@pytest.mark.parametrize(
    ("groups", "expected"), [("admin", 201), ("customer,admin", 201), ("customer", 403), ("[admin customer]", 403)]
)
def test_the_groups_claim_is_read_as_api_gateway_joins_it(shop: Shop, groups: str, expected: int) -> None:
    event = load_event("products/add-product", **{**shop.users["admin"].placeholders, "GROUPS": groups})
    assert shop.wiring.invoke("ProductsFunction", event)["statusCode"] == expected


def test_the_local_gateway_hands_the_functions_the_claims_api_gateway_would(shop: Shop) -> None:
    seen: list[dict[str, Any]] = []

    def recording(function: str, event: dict[str, Any]) -> Any:
        seen.append(event)
        return shop.wiring.handlers[function].lambda_handler(event, LambdaContext(function_name=function))

    shop.call("GET", "/orders", as_user="customer")  # loads the handler in-process
    shop.wiring.invoker = recording
    status, _ = shop.call("GET", "/orders", as_user="customer")
    assert status == 200
    claims = seen[-1]["requestContext"]["authorizer"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    customer = shop.users["customer"]
    assert (claims["sub"], claims["cognito:groups"], claims["token_use"]) == (customer.sub, "customer", "id")


def test_tokens_live_as_long_as_the_templates_app_clients_say(shop: Shop) -> None:
    # template.yaml: the web client's ID and access tokens 15 minutes, the batch jobs' client 60 minutes.
    def lifetime(token: str) -> int:
        claims = jwt.decode(token, options={"verify_signature": False})
        return int(claims["exp"]) - int(claims["iat"])

    user = shop.users["customer"]
    tokens = shop.stack.client("cognito-idp").initiate_auth(
        ClientId=shop.stack.physical["UserPoolClient"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.username, "PASSWORD": cognito.PASSWORD},
    )["AuthenticationResult"]
    assert tokens["ExpiresIn"] == 15 * 60
    assert lifetime(tokens["IdToken"]) == lifetime(tokens["AccessToken"]) == 15 * 60
    assert lifetime(user.id_token) == 15 * 60
    assert lifetime(machine_token(shop)) == 60 * 60


def claims_event(shop: Shop, token: str) -> dict[str, Any]:
    """GET /orders as API Gateway's Cognito authorizer hands it over for this token: AWS's authorizer accepts any
    app client's ID token and, on a route with scopes, access tokens; it passes their claims on."""
    event = load_event("orders/list-orders", **shop.users["customer"].placeholders)
    event["requestContext"]["authorizer"] = {
        "claims": authorizer_claims(jwt.decode(token, options={"verify_signature": False}))
    }
    return event


def signed_in(shop: Shop, client_id: str) -> dict[str, str]:
    tokens: dict[str, str] = shop.stack.client("cognito-idp").initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": shop.users["customer"].username, "PASSWORD": cognito.PASSWORD},
    )["AuthenticationResult"]
    return tokens


def test_behind_the_authorizer_a_real_access_tokens_claims_are_refused_401(shop: Shop) -> None:
    tokens = signed_in(shop, shop.stack.physical["UserPoolClient"])
    assert shop.wiring.invoke("OrdersFunction", claims_event(shop, tokens["IdToken"]))["statusCode"] == 200
    answer = shop.wiring.invoke("OrdersFunction", claims_event(shop, tokens["AccessToken"]))
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["message"] == "an ID token is required"


def test_behind_the_authorizer_an_id_token_of_another_app_client_of_the_pool_is_refused_401(shop: Shop) -> None:
    other = shop.stack.client("cognito-idp").create_user_pool_client(
        UserPoolId=shop.stack.physical["UserPool"],
        ClientName="someone-elses-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    answer = shop.wiring.invoke("OrdersFunction", claims_event(shop, signed_in(shop, other)["IdToken"]))
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["message"] == "token was issued to another app client"
