"""Order events from the notification queue: each becomes an e-mail to the order's customer, once."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
from dropshop.platform.batch import process_event_batch

# isort: split
from dropshop.notifications import service as notifications
from dropshop.platform import aws, idempotency
from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import logger, metrics, tracer

# Every event looks up its customer, sends through SES and records its e-mail under its id: build all three
# during init.
aws.client("cognito-idp")
aws.client("ses")
idempotency.prepare()


@tracer.capture_method
def notify(event: DomainEvent) -> None:
    notifications.notify(event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    idempotency.track(context)
    return process_event_batch(event, context, notify)
