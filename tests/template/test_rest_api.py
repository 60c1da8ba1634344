"""The REST API as SAM translates it: API Gateway's own errors in the one error shape, and the indexes the
order listings read."""

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


@pytest.mark.parametrize(
    ("index", "keys"),
    [
        ("byCustomer", ["customerId", "placedAt"]),
        ("newestFirst", ["entry", "placedAt"]),
        ("byStatus", ["status", "placedAt"]),
    ],
)
def test_each_order_listing_reads_an_index_keyed_by_its_partition_and_the_time_placed(
    translated: Template, index: str, keys: list[str]
) -> None:
    """placedAt as the sort key: newest first without sorting; history entries (no placedAt) stay out of them.
    OrdersFunction may query each (tests/template/test_least_privilege.py)."""
    table = of_type(translated, "AWS::DynamoDB::Table")["OrdersTable"]["Properties"]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes[index] == keys
    declared = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert all(declared[key] == "S" for key in keys)
