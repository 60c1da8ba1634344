"""OutboxTable's stream → the events topic: every event committed with its change gets published."""

from dropshop.platform import bus
from dropshop.platform.batch import DynamoDBRecord, process_stream_batch
from dropshop.platform.observability import MetricUnit, logger, metrics, tracer

bus.publisher()  # every batch publishes: build the SNS client during init


@tracer.capture_method
def relay(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image:
        raise ValueError(f"stream record {record.event_id} has no new image")  # the mapping filters INSERTs
    event = bus.relay(image["event"])
    metrics.add_metric(name="EventsRelayed", unit=MetricUnit.Count, value=1)
    logger.info("event relayed", extra={"eventId": event.id, "eventType": event.type})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_stream_batch(event, context, relay)
