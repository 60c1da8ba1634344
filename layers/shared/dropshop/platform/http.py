"""What every REST handler shares: CORS from settings, domain errors as JSON, the caller's bearer token."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types

from dropshop.platform.errors import DomainError, invalid_request
from dropshop.platform.settings import settings


def rest_resolver(*, enable_validation: bool = False) -> APIGatewayRestResolver:
    """A REST API resolver with the frontend's CORS policy and domain errors rendered as JSON."""
    cors = CORSConfig(
        allow_origin=settings().frontend_origin,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        max_age=600,
    )
    app = APIGatewayRestResolver(cors=cors, enable_validation=enable_validation)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def render_domain_error(error: DomainError) -> Response[dict[str, object]]:
        return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.as_body())

    if enable_validation:
        from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

        @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
        def render_invalid_request(error: RequestValidationError) -> Response[dict[str, object]]:
            return Response(
                status_code=422, content_type=content_types.APPLICATION_JSON, body=invalid_request(error.errors())
            )

    return app


def bearer_token(headers: dict[str, str] | None) -> str | None:
    """The token from `Authorization: Bearer <jwt>` or a bare `Authorization: <jwt>` (what Cognito authorizers take)."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if not value or not value.strip():
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return value.strip()
