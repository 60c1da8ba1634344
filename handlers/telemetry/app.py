"""POST /telemetry: batches of browser events → one structured log line each, and EMF metrics."""

from dropshop.identity import service as identity
from dropshop.platform import contract, http
from dropshop.platform.observability import correlation_paths, logger, metrics, tracer
from dropshop.telemetry import service as telemetry

app = http.rest_resolver()


@app.post(
    "/telemetry",
    operation_id="collectTelemetry",
    summary="Send browser events",
    description=(
        "Signed in or not. Up to a batch of click, view and error events; each is accepted or rejected with "
        "its reason, and the answer counts both (202)."
    ),
    tags=["telemetry"],
    responses=contract.answers(202, "How many events were accepted, and why each other one was not.", 400, 413, 415),
)
@tracer.capture_method
def collect_telemetry() -> tuple[dict[str, object], int]:
    caller = identity.identify(http.bearer_token(app.current_event.headers))
    receipt = telemetry.collect(app.current_event.json_body, user=caller)
    return receipt.as_dict(), 202


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
