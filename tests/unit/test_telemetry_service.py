"""Collecting telemetry batches: per-event validation, limits, scrubbing, attribution, metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dropshop.identity.model import Principal
from dropshop.platform.errors import MalformedRequest, PayloadTooLarge
from dropshop.platform.observability import metrics
from dropshop.telemetry import service
from dropshop.telemetry.model import MAX_EVENTS_PER_BATCH
from tests.support.logs import LogLines

NOW = "2026-11-24T12:00:00Z"


def batch(*events: object) -> dict[str, Any]:
    return {"events": list(events)}


def click(i: int = 0) -> dict[str, Any]:
    return {"type": "click", "target": f"a#link-{i}", "timestamp": NOW}


@pytest.fixture(autouse=True)
def _no_metrics_left_behind() -> Any:
    yield
    metrics.clear_metrics()


def test_valid_events_are_accepted_and_invalid_ones_rejected_by_index_with_the_field() -> None:
    receipt = service.collect(
        batch(
            click(),
            {"type": "web_vital", "name": "LCP", "value": -1, "timestamp": NOW},
            {"type": "teleport", "timestamp": NOW},
            {"type": "error", "timestamp": NOW},
            "not an object",
            {"type": "web_vital", "name": "CLS", "value": 0.1, "timestamp": NOW},
        ),
        user=None,
    )
    assert receipt.accepted == 2
    reasons = {r["index"]: r["reason"] for r in receipt.rejected}
    assert set(reasons) == {1, 2, 3, 4}
    assert "value" in str(reasons[1])
    assert "teleport" in str(reasons[2])
    assert "message" in str(reasons[3])


def test_each_accepted_event_is_one_scrubbed_log_line(logs: LogLines) -> None:
    service.collect(
        batch(
            {
                "type": "error",
                "message": "boom for jane@example.com",
                "timestamp": NOW,
                "url": "https://x.test/?token=t",
            },
            click(1),
        ),
        user=None,
    )
    lines = logs.with_message("telemetry event")
    assert len(lines) == 2
    error = lines[0]["telemetry"]
    assert error["message"] == "boom for [email]"
    assert error["url"] == "https://x.test/?token=[redacted]"
    assert lines[0]["anonymous"] is True


def test_a_signed_in_callers_events_are_attributed_to_them(logs: LogLines) -> None:
    service.collect(batch(click()), user=Principal(user_id="user-42", username="jane", groups=["customer"]))
    (line,) = logs.with_message("telemetry event")
    assert line["user_id"] == "user-42"
    assert line["anonymous"] is False


def test_counts_by_type_errors_and_vitals_become_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    service.collect(
        batch(
            click(1),
            click(2),
            {"type": "error", "message": "x", "timestamp": NOW},
            {"type": "web_vital", "name": "INP", "value": 180, "timestamp": NOW},
        ),
        user=None,
    )
    metrics.flush_metrics()
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    by_type = {blob["EventType"]: blob["TelemetryEvents"] for blob in emf if "EventType" in blob}
    assert by_type == {"click": [2.0], "error": [1.0], "web_vital": [1.0]}
    aggregate = next(blob for blob in emf if "FrontendErrors" in blob)
    assert aggregate["FrontendErrors"] == [1.0]
    assert aggregate["WebVitalINP"] == [180.0]


def test_no_body_is_a_400_naming_events() -> None:
    with pytest.raises(MalformedRequest) as refused:
        service.collect(None, user=None)
    assert refused.value.field == "events"


@pytest.mark.parametrize("body", [{"events": {}}, [1, 2], {"evnts": []}, "events", 0])
def test_a_batch_without_an_events_list_is_a_400(body: object) -> None:
    with pytest.raises(MalformedRequest) as refused:
        service.collect(body, user=None)
    assert refused.value.field == "events"


def test_more_than_the_maximum_events_is_a_413() -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        service.collect(batch(*[click(i) for i in range(MAX_EVENTS_PER_BATCH + 1)]), user=None)
    assert refused.value.status == 413


def test_exactly_the_maximum_events_is_accepted() -> None:
    assert service.collect(batch(*[click(i) for i in range(MAX_EVENTS_PER_BATCH)]), user=None).accepted == 100
