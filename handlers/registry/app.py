"""S3 Object Created (via EventBridge) → the file's record in FilesTable, with metadata and record count."""

from dropshop.files import service as files
from dropshop.platform import aws
from dropshop.platform.observability import logger, metrics, tracer
from dropshop.platform.s3_events import created_object

# Clients are made during init (boosted CPU, once per container), not by the first event.
for service in ("s3", "dynamodb"):
    aws.client(service)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    upload = created_object(event)
    if upload is None:  # the deployment hook's smoke event: nothing was uploaded
        return {"smoke": "acknowledged"}
    file = files.register_upload(
        bucket=upload.bucket,
        key=upload.key,
        etag=upload.etag,
        size=upload.size,
        uploaded_at=upload.created_at,
        version_id=upload.version_id,
    )
    return {"fileId": file.file_id, "status": file.status.value}
