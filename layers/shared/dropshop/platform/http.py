"""What every REST handler shares: CORS from settings, who may call a route decided before anything reads the
request, request bodies checked before anything parses them, every refusal in the one error shape, the caller's
bearer token."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from botocore.exceptions import ClientError

from dropshop.platform import dynamodb, json_body
from dropshop.platform.errors import DomainError, NotFound, ServiceUnavailable, invalid_request
from dropshop.platform.settings import settings

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# The attribute that carries a route's authorization check (see authorized_first).
AUTHORIZATION_CHECK = "__dropshop_authorization__"
RouteFunction = TypeVar("RouteFunction", bound=Callable[..., Any])


def authorized_first(check: Callable[[], object]) -> Callable[[RouteFunction], RouteFunction]:
    """Declares the route's caller check (raising 401/403), which the resolver runs before it reads the body or
    validates a parameter: a caller who may not call the route learns nothing of what it accepts."""

    def mark(route: RouteFunction) -> RouteFunction:
        setattr(route, AUTHORIZATION_CHECK, check)
        return route

    return mark


class GuardedRestEvent(APIGatewayProxyEvent):
    """A REST request whose body is read by the guard (json_body.read) once: its decoded text and its JSON
    value, which routes and their validation take from here, come from that one read."""

    @cached_property
    def guarded_body(self) -> json_body.Body:
        content_type = self.headers.get("content-type")
        return json_body.read(self.body, base64_encoded=bool(self.is_base64_encoded), content_type=content_type)

    @property
    def headers(self) -> dict[str, str]:
        # RFC 9110 §8.3.1: a media type's type and subtype are case-insensitive. The guard reads them so;
        # Powertools' validation compares them as written (`APPLICATION/JSON` would be its own 415).
        headers = super().headers
        if content_type := headers.get("content-type"):
            media_type, separator, parameters = content_type.partition(";")
            headers["content-type"] = media_type.strip().lower() + separator + parameters
        return headers

    @cached_property
    def decoded_body(self) -> str | None:
        return self.guarded_body.text

    @cached_property
    def json_body(self) -> Any:
        return self.guarded_body.value


class GuardedRestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver that runs a route's authorization check (authorized_first), then reads the
    request body by the guard (size, encoding, media type, depth, strict JSON), before the route, or its
    validation, takes it."""

    current_event: GuardedRestEvent

    def _to_proxy_event(self, event: dict[str, Any]) -> GuardedRestEvent:
        return GuardedRestEvent(event)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        # Every matched route and the 404 route pass through here, before Powertools' validation (which runs
        # ahead of any middleware); the exception handlers and CORS apply. Only POST, PUT and PATCH routes read
        # a body: elsewhere one is ignored, as the OpenAPI document says.
        authorization: Callable[[], object] | None = getattr(route.func, AUTHORIZATION_CHECK, None)
        try:
            if authorization is not None:
                authorization()
            if route.method in BODY_METHODS:
                self.current_event.guarded_body  # noqa: B018 - read now, so that a refusal is answered here
        except DomainError as refused:
            answer = self._call_exception_handler(refused, route)
            assert answer is not None  # rest_resolver registers the DomainError handler
            return answer
        return super()._call_route(route, route_arguments)


def rest_resolver(*, enable_validation: bool = False) -> APIGatewayRestResolver:
    """A REST API resolver with the frontend's CORS policy, guarded bodies and errors in the one shape."""
    cors = CORSConfig(
        allow_origin=settings().frontend_origin,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        max_age=600,
    )
    app = GuardedRestResolver(cors=cors, enable_validation=enable_validation)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def render_domain_error(error: DomainError) -> Response[dict[str, object]]:
        return _error_response(error)

    @app.exception_handler(ClientError)  # type: ignore[untyped-decorator]
    def render_throttled(error: ClientError) -> Response[dict[str, object]]:
        # Throttling that outlived botocore's own retries is the store's weather, not a fault of ours: a 503 the
        # client may retry. Any other AWS error is ours: re-raised, it fails the invocation, which API Gateway answers
        # 502 instead of the function's response with its CORS headers ("Handling Lambda errors with an API Gateway
        # API", https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html); the Errors alarms
        # count it.
        code = error.response.get("Error", {}).get("Code")
        if code not in dynamodb.THROTTLES:
            raise error
        return _error_response(dynamodb.unavailable(code))

    @app.not_found
    def render_not_found(_: NotFoundError) -> Response[dict[str, object]]:
        missing = NotFound(f"no route {app.current_event.http_method} {app.current_event.path}", field="path")
        return Response(status_code=404, content_type=content_types.APPLICATION_JSON, body=missing.as_body())

    if enable_validation:
        from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

        @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
        def render_invalid_request(error: RequestValidationError) -> Response[dict[str, object]]:
            return Response(
                status_code=422, content_type=content_types.APPLICATION_JSON, body=invalid_request(error.errors())
            )

    return app


def _error_response(error: DomainError) -> Response[dict[str, object]]:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, ServiceUnavailable) else None
    return Response(
        status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.as_body(), headers=headers
    )


def bearer_token(headers: dict[str, str] | None) -> str | None:
    """The token from `Authorization: Bearer <jwt>` or a bare `Authorization: <jwt>` (what Cognito authorizers take)."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if not value or not value.strip():
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return value.strip()
