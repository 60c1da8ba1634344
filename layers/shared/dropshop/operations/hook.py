"""CodeDeploy's PreTraffic lifecycle hook: find the version being deployed, judge it, report the verdict."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from dropshop.operations.canary import Target, deployment_target, judge
from dropshop.platform import aws
from dropshop.platform.observability import MetricUnit, logger, metrics

# What CodeDeploy's invocation must carry for the hook to report back at all.
HOOK_IDS = ("DeploymentId", "LifecycleEventHookExecutionId")


@cache
def smoke_tests() -> dict[str, str]:
    """Function name → smoke test, as the template sets SMOKE_TESTS for the hook."""
    tests: dict[str, str] = json.loads(os.environ.get("SMOKE_TESTS", "{}"))
    return tests


def handle(event: object) -> str:
    """The status reported for CodeDeploy's hook invocation `event`. An event without both ids has nobody to
    report to: the error is logged and counted (MalformedHookEvents) and "Unreported" returned, not raised (an
    exception would only have Lambda retry the same event)."""
    ids: dict[str, Any] = {name: event.get(name) for name in HOOK_IDS} if isinstance(event, dict) else {}
    missing = [name for name in HOOK_IDS if not (isinstance(ids.get(name), str) and ids[name])]
    if missing:
        extra = {"missing": missing, "event": repr(event)[:500]}
        logger.error("the hook event lacks what a report to CodeDeploy needs", extra=extra)
        metrics.add_metric(name="MalformedHookEvents", unit=MetricUnit.Count, value=1)
        return "Unreported"
    return run_pre_traffic_hook(ids["DeploymentId"], ids["LifecycleEventHookExecutionId"])


def run_pre_traffic_hook(deployment_id: str, execution_id: str) -> str:
    """Succeeded or Failed, as reported to CodeDeploy (which rolls the alias back on Failed)."""
    codedeploy = aws.client("codedeploy")
    status = "Failed"
    try:
        # A Lambda deployment has one target: the alias it shifts, with the version it shifts to.
        (target_id,) = codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]
        answer = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target_id)
        target = deployment_target(answer["deploymentTarget"])
        with logger.append_context_keys(function=target.function, version=target.version):
            failure = judge(target, smoke_tests(), _invoke)
            if failure:
                logger.error("the new version failed its smoke test", extra={"reason": failure})
            else:
                status = "Succeeded"
                logger.info("the new version passed its smoke test")
    except Exception:
        # Whatever went wrong, CodeDeploy must hear: a hook that never reports holds the deployment an hour.
        logger.exception("the smoke test could not run")
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
    )
    return status


def _invoke(function: str, version: str, event: dict[str, Any]) -> tuple[Any, str | None]:
    response = aws.client("lambda").invoke(FunctionName=function, Qualifier=version, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read() or b"null"), response.get("FunctionError")


__all__ = ["HOOK_IDS", "Target", "handle", "run_pre_traffic_hook", "smoke_tests"]
