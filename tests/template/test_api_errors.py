"""API Gateway's own errors (as SAM translates the REST API) come in the functions' one error shape."""

from __future__ import annotations

import json

import pytest

from tests.template.conftest import Template, of_type

# Every answer API Gateway itself gives that a caller of this API meets.
RESPONSE_TYPES = [
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
    "REQUEST_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "THROTTLED",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
]


@pytest.fixture(scope="module")
def gateway_responses(translated: Template) -> dict[str, dict]:
    """The OpenAPI extension SAM writes the REST API's gateway responses into."""
    (api,) = of_type(translated, "AWS::ApiGateway::RestApi").values()
    responses: dict[str, dict] = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    return responses


@pytest.mark.parametrize("response_type", RESPONSE_TYPES)
def test_api_gateways_own_errors_render_the_error_shape_with_cors(
    gateway_responses: dict[str, dict], response_type: str
) -> None:
    response = gateway_responses[response_type]
    # API Gateway substitutes $context.error.messageString as a quoted JSON string.
    rendered = response["responseTemplates"]["application/json"].replace(
        "$context.error.messageString", json.dumps("Unauthorized")
    )
    body = json.loads(rendered)
    assert set(body) == {"error", "message", "field"}
    assert body["error"].islower()
    assert "gatewayresponse.header.Access-Control-Allow-Origin" in response["responseParameters"]


def test_an_unknown_route_is_a_404_not_a_403_about_tokens(gateway_responses: dict[str, dict]) -> None:
    assert gateway_responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
