"""POST /telemetry through the handler, fed with events/telemetry/*."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import pytest

from tests.support import cognito
from tests.support.events import load_event
from tests.support.logs import LogLines
from tools.local.lambda_context import LambdaContext


@pytest.fixture(scope="module")
def telemetry_app(load_handler: Any) -> ModuleType:
    module: ModuleType = load_handler("telemetry")
    return module


def post(app: ModuleType, context: LambdaContext, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_sample_batch_is_accepted_except_the_invalid_vital(
    telemetry_app: ModuleType, context: LambdaContext, logs: LogLines
) -> None:
    status, body = post(telemetry_app, context, load_event("telemetry/batch"))
    assert status == 202
    assert body["accepted"] == 6
    assert [r["index"] for r in body["rejected"]] == [6]
    assert "value" in body["rejected"][0]["reason"]
    assert len(logs.with_message("telemetry event")) == 6


def test_nothing_personal_reaches_the_logs(telemetry_app: ModuleType, context: LambdaContext, logs: LogLines) -> None:
    post(telemetry_app, context, load_event("telemetry/batch"))
    written = json.dumps(logs.with_message("telemetry event"))
    for secret in ("jane.doe@example.com", "4111 1111 1111 1111", "eyJraWQiOiJhIn0"):
        assert secret not in written
    assert "[email]" in written
    assert "[card]" in written


def test_a_signed_in_callers_events_are_attributed(
    telemetry_app: ModuleType, context: LambdaContext, customer: cognito.SignedInUser, logs: LogLines
) -> None:
    event = load_event("telemetry/batch")
    event["headers"]["Authorization"] = f"Bearer {customer.id_token}"
    post(telemetry_app, context, event)
    assert {line["user_id"] for line in logs.with_message("telemetry event")} == {customer.sub}


def test_an_invalid_token_still_reports_anonymously(
    telemetry_app: ModuleType, context: LambdaContext, logs: LogLines
) -> None:
    event = load_event("telemetry/batch")
    event["headers"]["Authorization"] = "Bearer forged.token.value"
    status, body = post(telemetry_app, context, event)
    assert status == 202
    assert body["accepted"] == 6
    assert all(line["anonymous"] for line in logs.with_message("telemetry event"))


def test_a_body_that_is_not_json_is_a_400_naming_the_body(telemetry_app: ModuleType, context: LambdaContext) -> None:
    status, body = post(telemetry_app, context, load_event("telemetry/not-json"))
    assert status == 400
    assert body["error"] == "malformed_request"
    assert body["field"] == "body"


def test_more_than_100_events_is_a_413(telemetry_app: ModuleType, context: LambdaContext) -> None:
    status, body = post(telemetry_app, context, load_event("telemetry/too-many-events"))
    assert status == 413
    assert body["field"] == "events"


def test_a_base64_encoded_body_is_decoded(telemetry_app: ModuleType, context: LambdaContext) -> None:
    event = load_event("telemetry/batch")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    status, body = post(telemetry_app, context, event)
    assert (status, body["accepted"]) == (202, 6)


def test_cors_preflight_is_answered_for_the_frontend_origin(telemetry_app: ModuleType, context: LambdaContext) -> None:
    event = load_event("telemetry/batch")
    event.update(httpMethod="OPTIONS", body=None)
    event["headers"]["Access-Control-Request-Method"] = "POST"
    response = telemetry_app.lambda_handler(event, context)
    assert response["statusCode"] == 204
    assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["http://localhost:5173"]
