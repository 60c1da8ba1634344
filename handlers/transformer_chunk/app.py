"""ChunkQueue → one byte range of a big file (NDJSON, a JSON array, or a gzip file's staged decompressed bytes): its
records validated and queued, the chunk counted once."""

# First: Powertools' batch utility imports all its parser models when pydantic is already loaded.
from dropshop.platform.batch import SQSRecord, process_sqs_batch

# isort: split
from dropshop.ingestion import service as pipeline
from dropshop.ingestion.chunks import Chunk
from dropshop.platform import aws
from dropshop.platform.observability import logger, metrics, tracer

# Clients are made during init (boosted CPU, once per container), not by the first chunk.
for service in ("s3", "sqs", "dynamodb"):
    aws.client(service)


@tracer.capture_method
def ingest(record: SQSRecord) -> None:
    pipeline.ingest_chunk(Chunk.from_json(record.body))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return process_sqs_batch(event, context, ingest)
