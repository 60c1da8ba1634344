"""Order status changes from the invoice queue: a confirmed order gets its numbered invoice, a cancelled invoiced
order its credit note, each rendered to PDF and stored."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
from dropshop.platform.batch import process_event_batch

# isort: split
from invoice_pdf import render

from dropshop.invoicing import service as invoicing
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.observability import logger, metrics, tracer

# Every event reads and writes InvoicesTable and stores a PDF: build both clients during init.
aws.client("dynamodb")
aws.client("s3", signature_version="s3v4")


@tracer.capture_method
def issue(event: DomainEvent) -> None:
    invoicing.on_order_status_changed(event, render=render)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_event_batch(event, context, issue)
