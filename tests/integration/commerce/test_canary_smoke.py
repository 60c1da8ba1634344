"""The deployment hook's smoke tests, run on the template's functions as the local stack wires them: every
function it judges passes its own, and a smoke record leaves no trace."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from dropshop.operations.canary import Target, deployment_target, judge, smoke_event
from tests.integration.commerce.conftest import Shop

HOOK = "CanaryHookFunction"


def smoke_tests(shop: Shop) -> dict[str, str]:
    tests: dict[str, str] = json.loads(shop.stack.environment(HOOK)["SMOKE_TESTS"])
    return tests


def local_invoke(shop: Shop) -> Any:
    """The hook's invoke port on the local stack: the function's handler in-process, errors as Lambda reports them."""

    def invoke(function: str, version: str, event: dict[str, Any]) -> tuple[Any, str | None]:
        try:
            return shop.wiring.invoke(function, event), None
        except Exception as error:  # Lambda reports any exception as FunctionError
            return {"errorType": type(error).__name__, "errorMessage": str(error)}, "Unhandled"

    return invoke


def test_every_function_the_hook_judges_passes_its_smoke_test_and_changes_nothing(shop: Shop) -> None:
    tests = smoke_tests(shop)
    assert sorted(tests) == sorted(set(shop.stack.of_type("AWS::Serverless::Function")) - {HOOK})
    dynamodb = shop.stack.client("dynamodb")
    tables = [shop.stack.physical[name] for name in shop.stack.of_type("AWS::DynamoDB::Table")]
    before = {table: dynamodb.scan(TableName=table, Select="COUNT")["Count"] for table in tables}
    for function in tests:
        assert judge(Target(function, "7"), tests, local_invoke(shop)) is None, function
    after = {table: dynamodb.scan(TableName=table, Select="COUNT")["Count"] for table in tables}
    assert after == before, "a smoke event must change no data"


def test_a_version_that_fails_its_smoke_record_stops_the_deployment(shop: Shop) -> None:
    tests = smoke_tests(shop)
    event = smoke_event(tests["OrderWorkerFunction"])
    event["Records"][0]["eventSource"] = "aws:sqs"  # no longer recognisable: handled as an order event, and fails

    def invoke(function: str, version: str, _: dict[str, Any]) -> tuple[Any, str | None]:
        return local_invoke(shop)(function, version, event)

    failure = judge(Target("OrderWorkerFunction", "7"), tests, invoke)
    assert failure is not None
    assert "failed its smoke record" in failure


def test_a_function_without_a_smoke_test_fails_its_deployment(shop: Shop) -> None:
    failure = judge(Target("SomeNewFunction", "1"), smoke_tests(shop), local_invoke(shop))
    assert failure == "SomeNewFunction has no smoke test (SMOKE_TESTS)"


def _get_deployment_target_answer(function_name: str, target_version: str) -> dict[str, Any]:
    """GetDeploymentTarget's answer for a Lambda deployment, checked against botocore's model of it."""
    answer = {
        "deploymentTarget": {
            "deploymentTargetType": "LambdaTarget",
            "lambdaTarget": {
                "deploymentId": "d-EXAMPLE123",
                "targetId": "dropshop-prod-OrdersFunction-AbC123:live",
                "targetArn": "arn:aws:lambda:eu-west-1:123456789012:function:dropshop-prod-OrdersFunction-AbC123:live",
                "status": "InProgress",
                "lambdaFunctionInfo": {
                    "functionName": function_name,
                    "functionAlias": "live",
                    "currentVersion": "41",
                    "targetVersion": target_version,
                    "targetVersionWeight": 0.0,
                },
            },
        }
    }
    model = botocore.session.get_session().get_service_model("codedeploy")
    validate_parameters(answer, model.operation_model("GetDeploymentTarget").output_shape)
    return answer


@pytest.mark.parametrize(
    "name",
    [
        "dropshop-prod-OrdersFunction-AbC123",
        "arn:aws:lambda:eu-west-1:123456789012:function:dropshop-prod-OrdersFunction-AbC123",
    ],
)
def test_the_hook_reads_the_function_and_version_a_deployment_shifts_to(name: str) -> None:
    answer = _get_deployment_target_answer(name, "42")
    assert deployment_target(answer["deploymentTarget"]) == Target("dropshop-prod-OrdersFunction-AbC123", "42")
