"""How a function's new version is judged, as SAM translates the template: the deployment group's alarms
watch that version alone, batch consumers count failed records, and a PreTraffic hook smoke-tests it first."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.template.conftest import FUNCTIONS, Template, of_type

HOOK = "CanaryHookFunction"
JUDGED = [name for name in FUNCTIONS if name != HOOK]
SMOKE_TESTED = JUDGED
BATCH_CONSUMERS = [
    "ErrorHandlerFunction",
    "EventRelayFunction",
    "InvoiceFunction",
    "NotificationFunction",
    "OrderWorkerFunction",
    "StatusPushFunction",
    "TransformerChunkFunction",
    "WriterFunction",
]


def _version_of(translated: Template, function: str) -> str:
    (version,) = [n for n in of_type(translated, "AWS::Lambda::Version") if re.fullmatch(f"{function}Version\\w+", n)]
    return version


def _alarms_of(translated: Template, function: str) -> dict[str, dict[str, Any]]:
    group = translated["Resources"][f"{function}DeploymentGroup"]["Properties"]
    assert group["AlarmConfiguration"]["Enabled"] is True
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    names = [a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]]
    return {name: translated["Resources"][name]["Properties"] for name in names}


def _dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def _version_number_of(translated: Template, function: str) -> dict[str, Any]:
    """The number CloudFormation reads from the ARN that Ref gives a published version."""
    return {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": _version_of(translated, function)}]}]}


@pytest.mark.parametrize("function", JUDGED)
def test_the_errors_alarm_judging_a_deployment_watches_the_version_it_deploys(
    translated: Template, function: str
) -> None:
    errors = [a for a in _alarms_of(translated, function).values() if a["MetricName"] == "Errors"]
    assert len(errors) == 1, f"{function}: one Errors alarm in its deployment group"
    assert _dimensions(errors[0]) == {
        "FunctionName": {"Ref": function},
        "Resource": {"Fn::Sub": f"${{{function}}}:live"},
        "ExecutedVersion": _version_number_of(translated, function),
    }, f"{function}: the alarm must watch the new version alone, not the alias's mix of old and new"


@pytest.mark.parametrize("function", BATCH_CONSUMERS)
def test_failed_records_of_the_new_version_roll_a_batch_consumer_back(translated: Template, function: str) -> None:
    failed = [a for a in _alarms_of(translated, function).values() if a["MetricName"] == "FailedRecords"]
    assert len(failed) == 1, f"{function}: partial batch failures are no Lambda Errors: an alarm must count them"
    service = translated["Resources"][function]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    assert failed[0]["Namespace"] == "DropShop"
    # Exactly the dimensions dropshop.platform.batch emits (Powertools adds `service`).
    assert _dimensions(failed[0]) == {
        "FunctionName": {"Ref": function},
        "FunctionVersion": _version_number_of(translated, function),
        "service": service,
    }
    assert (failed[0]["Threshold"], failed[0]["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_every_function_that_reports_batch_item_failures_counts_them(template: Template) -> None:
    reporting = sorted(
        name
        for name in FUNCTIONS
        for spec in template["Resources"][name]["Properties"].get("Events", {}).values()
        if "ReportBatchItemFailures" in spec.get("Properties", {}).get("FunctionResponseTypes", [])
    )
    assert reporting == BATCH_CONSUMERS


@pytest.mark.parametrize("function", SMOKE_TESTED)
def test_codedeploy_runs_the_smoke_test_hook_before_shifting_traffic(translated: Template, function: str) -> None:
    update = translated["Resources"][f"{function}Aliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["BeforeAllowTrafficHook"] == {"Ref": HOOK}


def _smoke_tests(translated: Template) -> dict[str, str]:
    template_text = translated["Resources"][HOOK]["Properties"]["Environment"]["Variables"]["SMOKE_TESTS"]["Fn::Sub"]
    tests: dict[str, str] = json.loads(template_text)
    return tests


def test_every_hooked_function_has_a_smoke_test_the_hook_may_run(translated: Template) -> None:
    tests = _smoke_tests(translated)
    assert sorted(tests) == sorted(f"${{{f}}}" for f in SMOKE_TESTED)
    role = translated["Resources"][f"{HOOK}Role"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    (invoke,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert sorted(r["Fn::Sub"] for r in invoke["Resource"]) == sorted(f"${{{f}.Arn}}:*" for f in SMOKE_TESTED)
    (judge,) = [s for s in statements if s.get("Sid") == "JudgeThisStacksDeployments"]
    assert judge["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
    assert judge["Resource"]["Fn::Sub"].endswith(":deploymentgroup:${ServerlessDeploymentApplication}/*")
    # The Service Authorization Reference lists no resource type (and no condition key) for these two: any
    # narrower Resource denies them, the hook reports Failed and every function's deployment rolls back.
    (targets,) = [s for s in statements if s.get("Sid") == "ReadDeploymentTargets"]
    assert sorted(targets["Action"]) == ["codedeploy:GetDeploymentTarget", "codedeploy:ListDeploymentTargets"]
    assert targets["Resource"] == "*"
    assert "Condition" not in targets
    assert {s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]) for s in statements} == {
        "lambda:InvokeFunction",
        "codedeploy:PutLifecycleEventHookExecutionStatus",
        ("codedeploy:ListDeploymentTargets", "codedeploy:GetDeploymentTarget"),
    }


def test_the_hook_is_named_so_codedeploys_role_may_invoke_it(translated: Template) -> None:
    hook = translated["Resources"][HOOK]["Properties"]
    assert hook["FunctionName"] == {"Fn::Sub": "CodeDeployHook_${AWS::StackName}"}
    role = translated["Resources"]["CodeDeployServiceRole"]["Properties"]
    # This AWS managed policy lets CodeDeploy invoke functions named CodeDeployHook_* and no others.
    assert role["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"]
    assert f"{HOOK}DeploymentGroup" not in translated["Resources"], "the judge itself deploys at once"


def _alias_ref(value: Any) -> str | None:
    ref = value.get("Ref") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) and ref.endswith("Aliaslive") else None


def test_every_trigger_invokes_the_live_alias_so_a_canary_gets_its_share(translated: Template) -> None:
    mappings = of_type(translated, "AWS::Lambda::EventSourceMapping")
    assert mappings
    for name, mapping in mappings.items():
        assert _alias_ref(mapping["Properties"]["FunctionName"]), f"{name} bypasses the alias"
    targets = [t for rule in of_type(translated, "AWS::Events::Rule").values() for t in rule["Properties"]["Targets"]]
    assert targets
    for target in targets:
        assert _alias_ref(target["Arn"]), f"{target['Id']} bypasses the alias"
    for name, permission in of_type(translated, "AWS::Lambda::Permission").items():
        assert _alias_ref(permission["Properties"]["FunctionName"]), f"{name} allows calls that bypass the alias"


def test_every_rest_route_integrates_the_live_alias(translated: Template) -> None:
    body = translated["Resources"]["RestApi"]["Properties"]["Body"]
    uris = [
        json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
        for path in body["paths"].values()
        for method, operation in path.items()
        if method != "options" and "x-amazon-apigateway-integration" in operation
    ]
    assert uris
    for uri in uris:
        assert re.search(r"\$\{\w+Aliaslive\}", uri), f"a route calls the function's $LATEST: {uri}"


@pytest.mark.parametrize("function", JUDGED)
def test_the_previous_version_survives_as_the_rollback_target(translated: Template, function: str) -> None:
    assert translated["Resources"][_version_of(translated, function)]["DeletionPolicy"] == "Retain"
