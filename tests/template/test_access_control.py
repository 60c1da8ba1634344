"""Who may call what, as API Gateway and Cognito receive it: the template after SAM's translation."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.template.conftest import Template, of_type

PIPELINE_WRITE = "dropshop/pipeline.write"


def _ref(value: Any) -> Any:
    return value.get("Ref") if isinstance(value, dict) else value


def test_post_writer_demands_the_pipeline_scope_from_tokens_of_the_pool(translated: Template) -> None:
    body = translated["Resources"]["WriterHttpApi"]["Properties"]["Body"]
    (requirement,) = body["paths"]["/writer"]["post"]["security"]
    ((scheme, scopes),) = requirement.items()
    assert scopes == [PIPELINE_WRITE]
    authorizer = body["components"]["securitySchemes"][scheme]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["jwtConfiguration"]["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    # The web client's access tokens (`client_id`) are how admins write: their scope comes from the trigger.
    assert sorted(_ref(a) for a in authorizer["jwtConfiguration"]["audience"]) == ["BatchJobClient", "UserPoolClient"]


def test_the_scope_is_the_resource_servers_and_only_the_batch_job_client_may_ask_for_it(translated: Template) -> None:
    (server,) = of_type(translated, "AWS::Cognito::UserPoolResourceServer").values()
    identifier, scopes = server["Properties"]["Identifier"], server["Properties"]["Scopes"]
    assert [f"{identifier}/{s['ScopeName']}" for s in scopes] == [PIPELINE_WRITE]

    clients = {name: r["Properties"] for name, r in of_type(translated, "AWS::Cognito::UserPoolClient").items()}
    allowed = {name: props.get("AllowedOAuthScopes", []) for name, props in clients.items()}
    assert {name for name, scopes in allowed.items() if PIPELINE_WRITE in scopes} == {"BatchJobClient"}
    batch = clients["BatchJobClient"]
    assert batch["GenerateSecret"] is True
    assert batch["AllowedOAuthFlows"] == ["client_credentials"]
    assert batch["AllowedOAuthScopes"] == [PIPELINE_WRITE]
    assert batch["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"], "no user may sign in through the batch client"
    # The browsers' client cannot run OAuth flows at all: it gets no scope it could be talked into.
    assert not clients["UserPoolClient"].get("AllowedOAuthFlowsUserPoolClient")


def _stages(translated: Template) -> dict[str, list[Any]]:
    """Every stage API Gateway will create, per API: Stage resources and the stages Deployments name."""
    stages: dict[str, list[Any]] = defaultdict(list)
    for resource in translated["Resources"].values():
        props = resource.get("Properties", {})
        # A Deployment with a StageName creates that stage too (SAM's `Stage` without OpenApiVersion).
        if resource["Type"] in ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment") and "StageName" in props:
            stages[_ref(props["RestApiId"])].append(props["StageName"])
        elif resource["Type"] == "AWS::ApiGatewayV2::Stage":
            stages[_ref(props["ApiId"])].append(props["StageName"])
    return stages


def _named_stages(template: Template) -> dict[str, list[Any]]:
    """The stages the template asks for: a SAM API's StageName ($default for an HTTP API without one), and the
    Stage resources written for plain API Gateway APIs."""
    named: dict[str, list[Any]] = {}
    for name, api in of_type(template, "AWS::Serverless::Api").items():
        named[name] = [api["Properties"]["StageName"]]
    for name, api in of_type(template, "AWS::Serverless::HttpApi").items():
        named[name] = [api["Properties"].get("StageName", "$default")]
    for name in of_type(template, "AWS::ApiGatewayV2::Api"):
        named[name] = [
            s["Properties"]["StageName"]
            for s in of_type(template, "AWS::ApiGatewayV2::Stage").values()
            if _ref(s["Properties"]["ApiId"]) == name
        ]
    return named


def test_every_api_has_exactly_the_stages_the_template_names(template: Template, translated: Template) -> None:
    apis = set(of_type(translated, "AWS::ApiGateway::RestApi")) | set(of_type(translated, "AWS::ApiGatewayV2::Api"))
    named = _named_stages(template)
    assert set(named) == apis, "an API the template does not declare, or one without a stage"
    assert {"RestApi", "WriterHttpApi", "WebSocketApi"} <= apis
    assert dict(_stages(translated)) == named


def test_self_sign_up_runs_the_post_confirmation_trigger_through_its_live_alias(translated: Template) -> None:
    trigger = translated["Resources"]["UserPool"]["Properties"]["LambdaConfig"]["PostConfirmation"]
    assert trigger == {"Ref": "PostConfirmationFunctionAliaslive"}


def test_every_sign_in_and_refresh_scopes_the_access_token_through_the_v2_trigger_on_its_live_alias(
    translated: Template,
) -> None:
    pool = translated["Resources"]["UserPool"]["Properties"]
    assert pool["LambdaConfig"]["PreTokenGenerationConfig"] == {
        "LambdaArn": {"Ref": "PreTokenGenerationFunctionAliaslive"},
        "LambdaVersion": "V2_0",  # V1_0 events customize ID tokens only; the scope lives in the access token
    }
    assert "PreTokenGeneration" not in pool["LambdaConfig"], "the V1_0 trigger field would fight the V2_0 one"
    # V2_0 events need the Essentials plan (or Plus); on Lite the pool would refuse the configuration.
    assert pool["UserPoolTier"] == "ESSENTIALS"


def test_cognito_may_invoke_exactly_the_two_triggers_live_aliases_for_this_pool_only(translated: Template) -> None:
    permissions = [
        r["Properties"]
        for r in of_type(translated, "AWS::Lambda::Permission").values()
        if r["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    ]
    assert sorted(permissions, key=lambda p: p["FunctionName"]["Ref"]) == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": f"{function}Aliaslive"},
            "Principal": "cognito-idp.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": ["UserPool", "Arn"]},
        }
        for function in ("PostConfirmationFunction", "PreTokenGenerationFunction")
    ]


def test_no_user_can_write_an_attribute_that_grants_a_role(translated: Template) -> None:
    """Groups are the only source of permissions, and only admins (or the trigger: customer) set them."""
    schema = translated["Resources"]["UserPool"]["Properties"]["Schema"]
    assert {attribute["Name"] for attribute in schema} == {"email", "name"}
    for client in of_type(translated, "AWS::Cognito::UserPoolClient").values():
        assert all(not a.startswith("custom:") for a in client["Properties"].get("WriteAttributes", []))
