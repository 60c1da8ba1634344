"""SQS and stream batches through Powertools' BatchProcessor: each failure is reported, the rest acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import MetricUnit, logger
from dropshop.platform.smoke import SMOKE_EVENT_SOURCE

# A batch whose every message failed is reported like any other, not raised: the messages come back either
# way, and an invocation error would count against the function's Errors alarm (and roll a canary back)
# for what is a dependency's outage, which the queue alarms already report.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# On a stream, the first failure's sequence number is where Lambda resumes: later records come again too.
_stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def _unless_smoke(handle: Callable[[Any], None]) -> Callable[[Any], None]:
    """The deployment hook's smoke records are acknowledged, not handled."""

    def handle_record(record: SQSRecord | DynamoDBRecord) -> None:
        if record.event_source == SMOKE_EVENT_SOURCE:
            logger.info("smoke record acknowledged")
            return
        handle(record)

    return handle_record


def process_sqs_batch(
    event: dict[str, Any], context: Any, handle: Callable[[SQSRecord], None]
) -> PartialItemFailureResponse:
    """Needs `FunctionResponseTypes: [ReportBatchItemFailures]` on the event source (a template test checks)."""
    return _process(event, context, handle, _processor)


def process_event_batch(
    event: dict[str, Any], context: Any, handle: Callable[[DomainEvent], None]
) -> PartialItemFailureResponse:
    """SQS messages that carry domain events (raw delivery from the events topic): each message's event is
    handled with its id and type on every log line; a failure is reported for that message alone."""

    def handle_message(record: SQSRecord) -> None:
        domain_event = DomainEvent.from_json(record.body)
        with logger.append_context_keys(eventId=domain_event.id, eventType=domain_event.type):
            handle(domain_event)

    return process_sqs_batch(event, context, handle_message)


def process_stream_batch(
    event: dict[str, Any], context: Any, handle: Callable[[DynamoDBRecord], None]
) -> PartialItemFailureResponse:
    """For DynamoDB stream sources with `FunctionResponseTypes: [ReportBatchItemFailures]`."""
    return _process(event, context, handle, _stream_processor)


def _process(
    event: dict[str, Any], context: Any, handle: Callable[[Any], None], processor: BatchProcessor
) -> PartialItemFailureResponse:
    """Each record handled (smoke records acknowledged), failures reported. Failed records are no Lambda error:
    counted per function version, they let a canary's alarm judge the version that failed them (the
    template's FailedRecords alarms, one per batch consumer)."""
    response = process_partial_response(
        event=event, record_handler=_unless_smoke(handle), processor=processor, context=context
    )
    failed = len(response.get("batchItemFailures", []))
    if failed:
        dimensions = {
            "FunctionName": getattr(context, "function_name", "unknown"),
            "FunctionVersion": getattr(context, "function_version", "$LATEST"),
        }
        with single_metric(name="FailedRecords", unit=MetricUnit.Count, value=failed, default_dimensions=dimensions):
            pass
    return response


__all__ = [
    "DynamoDBRecord",
    "SQSRecord",
    "process_event_batch",
    "process_sqs_batch",
    "process_stream_batch",
]
