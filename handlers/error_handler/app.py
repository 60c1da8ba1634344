"""WriterDLQ → each dead letter's records written if they now can be, logged in LogTable otherwise."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
from dropshop.platform.batch import SQSRecord, process_sqs_batch

# isort: split
from dropshop.ingestion import service as pipeline
from dropshop.ingestion.messages import QueueMessage
from dropshop.platform import aws
from dropshop.platform.observability import logger, metrics, tracer

# The client is made during init (boosted CPU, once per container), not by the first batch.
aws.client("dynamodb")


@tracer.capture_method
def settle(record: SQSRecord) -> None:
    pipeline.salvage_message(QueueMessage.from_sqs(record))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_sqs_batch(event, context, settle)
