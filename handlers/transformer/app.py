"""A JSON file landed under incoming/ (S3 → EventBridge): stream, validate and queue its records."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
import dropshop.platform.batch  # noqa: F401 - ingestion loads it after pydantic otherwise

# isort: split
from dropshop.ingestion import service as pipeline
from dropshop.platform import aws
from dropshop.platform.observability import logger, metrics, tracer
from dropshop.platform.s3_events import created_object

# Clients are made during init (boosted CPU, once per container), not by the first event.
for service in ("s3", "sqs", "dynamodb"):
    aws.client(service)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    upload = created_object(event)
    if upload is None:  # the deployment hook's smoke event: nothing was uploaded
        return {"smoke": "acknowledged"}
    ingestion = pipeline.ingest_object(
        bucket=upload.bucket,
        key=upload.key,
        etag=upload.etag,
        size=upload.size,
        uploaded_at=upload.created_at,
        version_id=upload.version_id,
        invocation=context.aws_request_id,  # the same across Lambda's retries of this invocation
    )
    return {"key": upload.key, "ingestion": ingestion.as_dict() if ingestion else "already ingested"}
