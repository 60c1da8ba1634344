"""What a first deploy on a new AWS account meets and neither moto nor the local stack shows (issue 22)."""

from __future__ import annotations

import re
from typing import Any

from tests.template.conftest import PROD, ROOT, Template, for_parameters, of_type
from tests.template.test_operations import load_account_template

# API Gateway's parameter mapping (HTTP APIs) reads these as request data, context or stage variables.
SELECTION_EXPRESSION_PREFIXES = ("$request.", "$context.", "$stageVariables.")


def _service_integrations(translated: Template) -> list[dict[str, Any]]:
    integrations = []
    for api in of_type(translated, "AWS::ApiGatewayV2::Api").values():
        for path in api["Properties"].get("Body", {}).get("paths", {}).values():
            for operation in path.values():
                integration = operation.get("x-amazon-apigateway-integration", {})
                if "integrationSubtype" in integration:
                    integrations.append(integration)
    return integrations


def test_message_attributes_of_an_sqs_integration_are_never_a_static_value(translated: Template) -> None:
    """API Gateway refuses a static JSON MessageAttributes ("Invalid selection expression specified"): the
    import fails. POST /writer's messages carry no `source` attribute, which the Writer reads as the API."""
    (writer,) = [i for i in _service_integrations(translated) if i["integrationSubtype"] == "SQS-SendMessage"]
    parameters = writer["requestParameters"]
    assert parameters["MessageBody"] == "$request.body"
    attributes = parameters.get("MessageAttributes")
    assert attributes is None or str(attributes).startswith(SELECTION_EXPRESSION_PREFIXES), attributes


def test_bodies_up_to_the_apis_own_limit_pass_the_web_acl(translated: Template) -> None:
    """AWS's common rule set blocks bodies over 8 KB (SizeRestrictions_BODY); the API takes 256 KiB."""
    acl = for_parameters(translated, **PROD)["Resources"]["RestApiWebAcl"]["Properties"]
    (common,) = [r for r in acl["Rules"] if r["Name"] == "AWSManagedRulesCommonRuleSet"]
    group = common["Statement"]["ManagedRuleGroupStatement"]
    assert group["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    assert common["OverrideAction"] == {"None": {}}, "every other rule of the set still blocks"
    assert all("SizeConstraintStatement" not in r["Statement"] for r in acl["Rules"]), (
        "WAF sees only the first 16 KB of a body: a size rule of ours would block what the API accepts"
    )


def test_the_logging_role_trusts_api_gateway_as_awss_own_example_does() -> None:
    """AWS::ApiGateway::Account's example trusts apigateway.amazonaws.com with no condition: API Gateway does
    not document sending aws:SourceAccount for this role, and a condition it misses leaves every API unlogged."""
    account = load_account_template()
    (statement,) = account["Resources"]["ApiGatewayCloudWatchRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


def test_the_pool_mails_through_cognitos_sender_until_told_to_use_the_stacks_ses_identity(
    translated: Template,
) -> None:
    """Cognito's built-in sender manages a few e-mails a day; with CognitoEmail=ses the pool sends from the
    stack's SES identity. Not by default: Cognito refuses a SourceArn that is not verified yet, and the first
    deploy is what creates (and mails the link for) that identity."""
    assert "EmailConfiguration" not in for_parameters(translated, **PROD)["Resources"]["UserPool"]["Properties"]
    pool = for_parameters(translated, **PROD, CognitoEmail="ses")["Resources"]["UserPool"]["Properties"]
    assert pool["EmailConfiguration"] == {
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"
        },
        "From": {"Ref": "SenderEmail"},
    }


def test_the_first_deploys_steps_run_make_account_before_make_preflight() -> None:
    """`make preflight` blocks on API Gateway's logging role, which `make account` creates: pasted in the
    order docs/deploy.md numbers them, the steps must work."""
    guide = (ROOT / "docs" / "deploy.md").read_text().split("## Your first deploy", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^\d+\. \*\*(.+?)\*\*", guide, re.MULTILINE)
    assert steps.index("`make account`") < steps.index("`make preflight`")
