"""Collecting a batch of browser events: validate each, scrub it, log it as one line, count it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import single_metric
from pydantic import ValidationError

from dropshop.identity.model import Principal
from dropshop.platform.errors import DomainError, MalformedRequest, PayloadTooLarge
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.telemetry.model import MAX_EVENTS_PER_BATCH, WebVitalEvent, telemetry_event
from dropshop.telemetry.privacy import scrub


@dataclass
class Receipt:
    accepted: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"accepted": self.accepted, "rejected": self.rejected}


def collect(payload: object, *, user: Principal | None) -> Receipt:
    """Accept the valid events of a batch (the request body as the REST body guard parsed it, None when there
    was none) and explain, by index, each one that was refused."""
    try:
        events = _events(payload)
    except DomainError:
        metrics.add_metric(name="TelemetryBatchesRefused", unit=MetricUnit.Count, value=1)
        raise
    receipt = Receipt()
    by_type: Counter[str] = Counter()
    for index, raw in enumerate(events):
        try:
            event = telemetry_event.validate_python(raw)
        except ValidationError as invalid:
            receipt.rejected.append({"index": index, "reason": _reason(invalid)})
            continue
        record = scrub(event.model_dump(mode="json", by_alias=True, exclude_none=True))
        logger.info(
            "telemetry event",
            extra={"telemetry": record, "user_id": user.user_id if user else None, "anonymous": user is None},
        )
        receipt.accepted += 1
        by_type[event.type] += 1
        if isinstance(event, WebVitalEvent):
            metrics.add_metric(name=f"WebVital{event.name}", unit=event.unit, value=event.value)
    _count(by_type, rejected=len(receipt.rejected))
    return receipt


def _events(payload: object) -> list[object]:
    if payload is None:
        raise MalformedRequest("request body must be a JSON object with an `events` list", field="events")
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise MalformedRequest("`events` must be a list of telemetry events", field="events")
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise PayloadTooLarge(f"a batch may hold at most {MAX_EVENTS_PER_BATCH} events", field="events")
    return events


def _reason(invalid: ValidationError) -> str:
    first = invalid.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _count(by_type: Counter[str], *, rejected: int) -> None:
    for event_type, count in by_type.items():
        # One metric per type, dimensioned by type, so a dashboard can stack them.
        with single_metric(
            name="TelemetryEvents", unit=MetricUnit.Count, value=count, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="EventType", value=event_type)
    if by_type["error"]:
        metrics.add_metric(name="FrontendErrors", unit=MetricUnit.Count, value=by_type["error"])
    if rejected:
        metrics.add_metric(name="TelemetryEventsRejected", unit=MetricUnit.Count, value=rejected)
