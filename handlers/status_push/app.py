"""Order status changes from the status queue, pushed to every open WebSocket of the order's owner."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
from dropshop.platform.batch import process_event_batch

# isort: split
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import logger, metrics, tracer
from dropshop.realtime import service as realtime

aws.client("dynamodb")  # every change looks up its owner's sockets: build the client during init


@tracer.capture_method
def push(event: DomainEvent, remaining_ms) -> None:
    # Posts stop while the invocation can still record what they owe; unstarted changes fail and come back.
    realtime.push_order_status(event, remaining_ms=remaining_ms)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_event_batch(event, context, lambda change: push(change, context.get_remaining_time_in_millis))
