"""A canary's first judge: before CodeDeploy shifts any traffic to a function's new version (its PreTraffic
hook), that version gets one smoke event, and the deployment goes on only if it handles it.

Every function names its smoke test in the hook's SMOKE_TESTS map (function name → spec):
- `rest METHOD PATH`: an anonymous API Gateway request; any answer but a 5xx passes (401 included: the
  version started, routed and refused, as it should).
- `sqs` / `stream`: one record that only a direct invocation can carry (dropshop.platform.batch acknowledges
  it unhandled); passes when no record is reported failed.
- `websocket ROUTE`: a WebSocket route event for a connection that does not exist; any answer but a 5xx.
- `s3`: an EventBridge event that only a direct invocation can carry (dropshop.platform.s3_events reads
  no object from it); passes when the function acknowledges it.
- `cognito TRIGGER`: a Cognito trigger event of a source the function leaves alone (for the pre token
  generation trigger, one for a user in no group); passes when the function hands the event back, as
  Cognito expects.
- `schedule`: a scheduled event with that source, which the function acknowledges without running; passes when
  it answers `{"smoke": "acknowledged"}`.
A function missing from the map fails its deployment: a new function cannot slip through unjudged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dropshop.identity.model import GRANTABLE_SCOPES
from dropshop.platform.smoke import SMOKE_EVENT_SOURCE

# (function name, version, event) → (the function's answer, Lambda's FunctionError or None)
Invoke = Callable[[str, str, dict[str, Any]], tuple[Any, str | None]]


@dataclass(frozen=True)
class Target:
    """The function version a Lambda deployment shifts traffic to."""

    function: str
    version: str


def deployment_target(deployment_target: dict[str, Any]) -> Target:
    """The function version a Lambda deployment's one target shifts to, from CodeDeploy's
    GetDeploymentTarget answer (`deploymentTarget.lambdaTarget.lambdaFunctionInfo`)."""
    info = deployment_target["lambdaTarget"]["lambdaFunctionInfo"]
    name = str(info["functionName"])
    # An ARN names the function in its seventh field (arn:aws:lambda:region:account:function:name).
    return Target(function=name.split(":")[6] if name.startswith("arn:") else name, version=str(info["targetVersion"]))


def smoke_event(spec: str) -> dict[str, Any]:
    kind, *arguments = spec.split()
    if kind == "rest":
        method, path = arguments
        return _rest_request(method, path)
    if kind == "sqs":
        return {"Records": [_sqs_record()]}
    if kind == "stream":
        return {"Records": [_stream_record()]}
    if kind == "websocket":
        (route,) = arguments
        return _websocket_event(route)
    if kind == "cognito":
        (trigger,) = arguments
        return _cognito_trigger(trigger)
    if kind == "s3":
        return _eventbridge_event(
            "Object Created", {"bucket": {"name": "smoke"}, "object": {"key": "smoke", "size": 0, "etag": "smoke"}}
        )
    if kind == "schedule":
        return _eventbridge_event("Scheduled Event", {})
    raise ValueError(f"unknown smoke test {spec!r}")


def verdict(spec: str, answer: Any, function_error: str | None) -> str | None:
    """None when the answer passes the smoke test; otherwise why it does not."""
    if function_error:
        return f"the version raised ({function_error}): {json.dumps(answer)[:500]}"
    kind = spec.split()[0]
    if kind in {"sqs", "stream"}:
        if answer != {"batchItemFailures": []}:
            return f"the version failed its smoke record: {json.dumps(answer)[:500]}"
        return None
    if kind in {"s3", "schedule"}:
        if answer != {"smoke": "acknowledged"}:
            return f"the version did not acknowledge its smoke event: {json.dumps(answer)[:500]}"
        return None
    if kind == "cognito":
        if not isinstance(answer, dict) or answer.get("triggerSource") != spec.split()[1]:
            return f"the version did not hand the trigger's event back: {json.dumps(answer)[:500]}"
        if spec.split()[1].startswith("TokenGeneration_") and not _scopes_nobody(answer):
            return f"the version scoped the token of a user in no group: {json.dumps(answer)[:500]}"
        return None
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    if not isinstance(status, int) or status >= 500:
        return f"the version answered {status!r}: {json.dumps(answer)[:500]}"
    return None


def _scopes_nobody(answer: dict[str, Any]) -> bool:
    """A pre token generation answer for the smoke user (in no group) adds no scope and withholds every scope
    a group grants: a version that would hand the pipeline's scope to everyone never takes traffic."""
    details = (answer.get("response") or {}).get("claimsAndScopeOverrideDetails") or {}
    access = details.get("accessTokenGeneration") or {}
    return not access.get("scopesToAdd") and GRANTABLE_SCOPES.issubset(access.get("scopesToSuppress") or [])


def judge(target: Target, smoke_tests: dict[str, str], invoke: Invoke) -> str | None:
    """None when `target` passes its smoke test; otherwise why the deployment must stop."""
    spec = smoke_tests.get(target.function)
    if spec is None:
        return f"{target.function} has no smoke test (SMOKE_TESTS)"
    answer, function_error = invoke(target.function, target.version, smoke_event(spec))
    return verdict(spec, answer, function_error)


def _rest_request(method: str, path: str) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json", "User-Agent": "dropshop-canary"},
        "multiValueHeaders": {"Accept": ["application/json"], "User-Agent": ["dropshop-canary"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": "{}" if method in {"POST", "PUT"} else None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": path,
            "stage": "canary",
            "requestId": request_id,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "dropshop-canary"},
        },
    }


def _sqs_record() -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "smoke",
        "body": "{}",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "eventSource": SMOKE_EVENT_SOURCE,
        "eventSourceARN": "arn:aws:sqs:smoke",
        "awsRegion": "smoke",
    }


def _stream_record() -> dict[str, Any]:
    return {
        "eventID": str(uuid.uuid4()),
        "eventName": "INSERT",
        "eventSource": SMOKE_EVENT_SOURCE,
        "dynamodb": {"Keys": {}, "NewImage": {}, "SequenceNumber": "0", "StreamViewType": "NEW_IMAGE"},
    }


def _websocket_event(route: str) -> dict[str, Any]:
    return {
        "requestContext": {
            "routeKey": route,
            "eventType": route.strip("$").upper() if route.startswith("$") else "MESSAGE",
            "connectionId": f"canary-{uuid.uuid4()}",
            "requestId": str(uuid.uuid4()),
            "stage": "canary",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "isBase64Encoded": False,
    }


def _cognito_trigger(trigger: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "1",
        "region": "smoke",
        "userPoolId": "smoke",
        "userName": f"canary-{uuid.uuid4()}",
        "callerContext": {"awsSdkVersion": "smoke", "clientId": "smoke"},
        "triggerSource": trigger,
        "request": {"userAttributes": {}},
        "response": {},
    }
    if trigger.startswith("TokenGeneration_"):
        # A V2_0 pre token generation event for a user in no group: the answer scopes a token nobody receives.
        event["version"] = "2"
        event["request"] |= {
            "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": None},
            "scopes": ["aws.cognito.signin.user.admin"],
        }
        event["response"] = {"claimsAndScopeOverrideDetails": None}
    return event


def _eventbridge_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge envelope from the smoke source: an S3 object event or a schedule's tick."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SMOKE_EVENT_SOURCE,
        "account": "000000000000",
        "time": "1970-01-01T00:00:00Z",
        "region": "smoke",
        "resources": [],
        "detail": detail,
    }
