"""The PreTraffic hook's handler under any event: CodeDeploy hears Failed whenever the event names a deployment
and a hook execution, and an event that does not is logged and counted, never an uncaught exception.

moto 5.2.5 has no ListDeploymentTargets nor PutLifecycleEventHookExecutionStatus: CodeDeploy's answers come
from botocore's Stubber, which checks every request and answer against the service's own model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from botocore.stub import Stubber
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.operations.hook import HOOK_IDS
from dropshop.platform import aws
from tests.support.events import load_event
from tests.support.logs import LogLines
from tests.support.properties import budget
from tools.local.lambda_context import LambdaContext

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# Each id absent, of any JSON type, or a string (empty included); other keys beside them.
HOOK_ID_VALUES = st.one_of(st.just(None), JSON, st.text(max_size=40))
EVENTS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={name: HOOK_ID_VALUES for name in HOOK_IDS} | {"Other": JSON},
    ),
)
SAMPLE = load_event("deploy_hook/pre_traffic")


@pytest.fixture(scope="module")
def hook_app(load_handler: Any) -> ModuleType:
    module: ModuleType = load_handler("deploy_hook")
    return module


@pytest.fixture
def codedeploy(hook_app: ModuleType) -> Iterator[Stubber]:
    with Stubber(aws.client("codedeploy")) as stubber:
        yield stubber


def _reportable(event: object) -> tuple[str, str] | None:
    if not isinstance(event, dict):
        return None
    deployment_id, execution_id = (event.get(name) for name in HOOK_IDS)
    if isinstance(deployment_id, str) and deployment_id and isinstance(execution_id, str) and execution_id:
        return deployment_id, execution_id
    return None


def _malformed_hook_event_metrics(output: str) -> list[float]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [value for line in lines for value in line.get("MalformedHookEvents", [])]


@budget(examples=60)
@given(event=EVENTS)
@example(event=SAMPLE)
@example(event={"DeploymentId": SAMPLE["DeploymentId"]})
@example(event={"LifecycleEventHookExecutionId": SAMPLE["LifecycleEventHookExecutionId"]})
@example(event={"DeploymentId": 7, "LifecycleEventHookExecutionId": SAMPLE["LifecycleEventHookExecutionId"]})
@example(event={"DeploymentId": "", "LifecycleEventHookExecutionId": "x"})
@example(event=None)
@example(event=[SAMPLE])
def test_any_hook_event_is_reported_failed_when_it_can_be_and_logged_and_counted_when_not(
    hook_app: ModuleType,
    codedeploy: Stubber,
    context: LambdaContext,
    logs: LogLines,
    capsys: pytest.CaptureFixture[str],
    event: Any,
) -> None:
    capsys.readouterr()
    errors_before = len(logs.with_message("the hook event lacks what a report to CodeDeploy needs"))
    reportable = _reportable(event)
    if reportable:
        deployment_id, execution_id = reportable
        # The deployment cannot be read (a bogus id, a deleted deployment): the version is not judged.
        codedeploy.add_client_error(
            "list_deployment_targets",
            service_error_code="DeploymentDoesNotExistException",
            expected_params={"deploymentId": deployment_id},
        )
        codedeploy.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": execution_id},
            expected_params={
                "deploymentId": deployment_id,
                "lifecycleEventHookExecutionId": execution_id,
                "status": "Failed",
            },
        )

    answer = hook_app.lambda_handler(event, context)

    codedeploy.assert_no_pending_responses()  # every stubbed call was made; an unstubbed one would have raised
    errors = logs.with_message("the hook event lacks what a report to CodeDeploy needs")[errors_before:]
    counted = _malformed_hook_event_metrics(capsys.readouterr().out)
    if reportable:
        assert answer == {"status": "Failed"}
        assert (errors, counted) == ([], [])
    else:
        assert answer == {"status": "Unreported"}
        (error,) = errors
        assert error["level"] == "ERROR"
        assert error["missing"]
        assert counted == [1.0]
