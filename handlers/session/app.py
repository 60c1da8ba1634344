"""GET /session: the signed-in user's profile and permissions, from a token this function verifies itself."""

from dropshop.identity import service as identity
from dropshop.platform import contract, http
from dropshop.platform.observability import correlation_paths, logger, metrics, tracer

app = http.rest_resolver()
# Every request verifies a token and reads the directory: build both during init, not on the first request.
identity.verifier()
identity.directory()


@app.get(
    "/session",
    operation_id="getSession",
    summary="Who is signed in",
    description=(
        "The signed-in user's profile, groups and the permissions they grant: what the frontend shows and "
        "which actions it offers. Asks Cognito, so a removed permission shows at once."
    ),
    tags=["identity"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "The caller's profile and permissions.", 401),
)
@tracer.capture_method
def get_session() -> dict[str, object]:
    principal = identity.authenticate(http.bearer_token(app.current_event.headers))
    return identity.profile(principal).as_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
