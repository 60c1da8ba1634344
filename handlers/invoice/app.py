"""Confirmed orders from the invoice queue: each gets its numbered invoice, rendered to PDF and stored."""

from invoice_pdf import render

from dropshop.invoicing import service as invoicing
from dropshop.platform import aws
from dropshop.platform.batch import SQSRecord, process_sqs_batch
from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import logger, metrics, tracer

# Every event reads and writes InvoicesTable and stores a PDF: build both clients during init.
aws.client("dynamodb")
aws.client("s3", signature_version="s3v4")


@tracer.capture_method
def issue(record: SQSRecord) -> None:
    event = DomainEvent.from_json(record.body)
    with logger.append_context_keys(eventId=event.id, orderId=event.data["orderId"]):
        invoicing.issue_invoice(event.data["orderId"], render=render)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_sqs_batch(event, context, issue)
