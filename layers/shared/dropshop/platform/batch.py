"""SQS batches through Powertools' BatchProcessor: each failed message is reported, the rest acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

# A batch whose every message failed is reported like any other, not raised: the messages come back either
# way, and an invocation error would count against the function's Errors alarm (and roll a canary back)
# for what is a dependency's outage, which the queue alarms already report.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def process_sqs_batch(
    event: dict[str, Any], context: Any, handle: Callable[[SQSRecord], None]
) -> PartialItemFailureResponse:
    """Needs `FunctionResponseTypes: [ReportBatchItemFailures]` on the event source (a template test checks)."""
    return process_partial_response(event=event, record_handler=handle, processor=_processor, context=context)


__all__ = ["SQSRecord", "process_sqs_batch"]
