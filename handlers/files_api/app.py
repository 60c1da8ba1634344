"""GET /files and GET /files/{fileId}: the file registry, for admins."""

from dropshop.files import service as files
from dropshop.identity import service as identity
from dropshop.identity.model import Principal
from dropshop.platform import aws, contract, http
from dropshop.platform.observability import correlation_paths, logger, metrics, tracer
from dropshop.platform.validation import FileId, Query

app = http.rest_resolver(enable_validation=True)
# The authorizer verified the caller's token; every request reads FilesTable: build its client during init.
aws.client("dynamodb")


def file_reader() -> Principal:
    return identity.authorize(app.current_event, "files:read")


@app.get(
    "/files",
    operation_id="listFiles",
    summary="List the files uploaded to the data pipeline",
    description=(
        "Admins only. Every file put into the data bucket is registered here with its size, type and "
        "processing state, one page of `limit` at a time (`nextCursor` continues)."
    ),
    tags=["files"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "A page of registered files, newest first.", 400, 401, 403, 422),
)
@http.authorized_first(file_reader)
@tracer.capture_method
def list_files(
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=2048),
) -> dict[str, object]:
    return files.list_files(limit=limit, cursor=cursor)


@app.get(
    "/files/<fileId>",
    operation_id="getFile",
    summary="Get one uploaded file",
    description=(
        "Admins only. The registry entry of one file: where it is stored, its size and type, and how its "
        "records fared in the pipeline."
    ),
    tags=["files"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "The file and its ingestion counts.", 401, 403, 404, 422),
)
@http.authorized_first(file_reader)
@tracer.capture_method
def get_file(file_id: FileId) -> dict[str, object]:
    return files.get_file(file_id).as_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
