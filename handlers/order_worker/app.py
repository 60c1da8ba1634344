"""Order events from the worker's queue: confirm placed orders that pass the checks, record the history."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
from dropshop.platform.batch import process_event_batch

# isort: split
from dropshop.orders import service as orders
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import logger, metrics, tracer

aws.client("dynamodb")  # every event reads OrdersTable: build the client during init


@tracer.capture_method
def react(event: DomainEvent) -> None:
    orders.react(event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_event_batch(event, context, react)
