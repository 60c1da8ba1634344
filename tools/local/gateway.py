"""API Gateway on 127.0.0.1: the template's REST API (proxy events, v1) and HTTP API (SQS integration),
with their authorizers, CORS and error shapes. Routes come from template.yaml alone.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from dropshop.identity.claims import GROUPS_SEPARATOR
from dropshop.platform.errors import Unauthenticated
from tools.local.cognito_authorizer import CognitoAuthorizer
from tools.local.jwt_authorizer import JwtAuthorizer, JwtRule, Refused
from tools.local.sqs_integration import send_message
from tools.local.stack import Stack

Invoke = Callable[[str, dict[str, Any]], Any]
Log = Callable[[str], None]
# The WebSocket API's Management API: https://<api>.execute-api.<region>.amazonaws.com/<stage>/@connections/<id>
MANAGED_CONNECTION = re.compile(r"^/[^/]+/@connections/(?P<connection_id>[^/]+)$")


class Connections(Protocol):
    """What the Management API reaches: the open WebSockets (tools.local.websocket)."""

    def post(self, connection_id: str, data: bytes) -> bool: ...
    def describe(self, connection_id: str) -> dict[str, Any] | None: ...
    def close(self, connection_id: str) -> bool: ...


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the template writes it: /files/{fileId}
    function: str | None  # None for a service integration
    authorized: bool
    integration: dict[str, Any] | None = None
    jwt: JwtRule | None = None  # an HTTP API route's JWT authorizer

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", self.path) + "$")


@dataclass(frozen=True)
class Cors:
    origin: str
    headers: str
    methods: str
    max_age: str

    @property
    def simple(self) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": self.origin}

    def preflight(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": self.origin,
            "Access-Control-Allow-Headers": self.headers,
            "Access-Control-Allow-Methods": self.methods,
            "Access-Control-Max-Age": self.max_age,
        }


def routes(stack: Stack) -> list[Route]:
    found = []
    apis = stack.of_type("AWS::Serverless::Api")
    for name, function in stack.of_type("AWS::Serverless::Function").items():
        for spec in function["Properties"].get("Events", {}).values():
            if spec["Type"] != "Api":
                continue
            props = spec["Properties"]
            api = apis[props["RestApiId"]["Ref"]]["Properties"]
            default = api.get("Auth", {}).get("DefaultAuthorizer")
            authorizer = props.get("Auth", {}).get("Authorizer", default)
            found.append(Route(props["Method"].upper(), props["Path"], name, authorizer not in (None, "NONE")))
    for api in stack.of_type("AWS::Serverless::HttpApi").values():
        # SAM applies the API's default authorizer (and its scopes) to every route of its definition.
        auth = stack.resolve(api["Properties"].get("Auth", {}))
        default = auth.get("DefaultAuthorizer")
        for path, methods in api["Properties"].get("DefinitionBody", {}).get("paths", {}).items():
            for method, operation in methods.items():
                integration = stack.resolve(operation["x-amazon-apigateway-integration"])
                rule = JwtRule.from_template(auth["Authorizers"][default]) if default else None
                found.append(Route(method.upper(), path, None, rule is not None, integration, rule))
    return found


def cors(stack: Stack) -> Cors:
    (api,) = stack.of_type("AWS::Serverless::Api").values()
    config = stack.resolve(api["Properties"]["Cors"])

    def unquote(value: str) -> str:
        return value.strip("'")

    return Cors(
        unquote(config["AllowOrigin"]),
        unquote(config["AllowHeaders"]),
        unquote(config["AllowMethods"]),
        unquote(config.get("MaxAge", "'600'")),
    )


# API Gateway's status for each gateway response type (a template's StatusCode overrides it).
GATEWAY_RESPONSE_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "THROTTLED": 429,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 502,
}
# API Gateway's own payload limit for the REST API.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class GatewayResponses:
    """The REST API's GatewayResponses from the template, rendered as API Gateway renders them."""

    specs: dict[str, Any]

    def render(self, response_type: str, message: str, *, status: int | None = None) -> Response:
        status = status or GATEWAY_RESPONSE_STATUS[response_type]
        fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        spec = self.specs.get(response_type) or self.specs.get(fallback) or {}
        body = spec.get("ResponseTemplates", {}).get("application/json", '{"message":$context.error.messageString}')
        body = body.replace("$context.error.messageString", json.dumps(message))
        body = body.replace("$context.error.responseType", response_type)
        headers = {k: v.strip("'") for k, v in spec.get("ResponseParameters", {}).get("Headers", {}).items()}
        return Response(
            body, status=int(spec.get("StatusCode", status)), content_type="application/json", headers=headers
        )


def gateway_responses(stack: Stack) -> GatewayResponses:
    (api,) = stack.of_type("AWS::Serverless::Api").values()
    return GatewayResponses(stack.resolve(api["Properties"].get("GatewayResponses", {})))


class Gateway:
    def __init__(
        self,
        stack: Stack,
        invoke: Invoke,
        jwks_url: str,
        log: Log = print,
        openapi: Callable[[], dict[str, Any]] | None = None,
        connections: Connections | None = None,
    ) -> None:
        self._stack = stack
        self._connections = connections
        self._openapi = openapi
        self._invoke = invoke
        self._routes = routes(stack)
        self._cors = cors(stack)
        self._errors = gateway_responses(stack)
        self._log = log
        issuer = f"https://cognito-idp.{stack.region}.amazonaws.com/{stack.physical['UserPool']}"
        self._authorizer = CognitoAuthorizer(jwks_url=jwks_url, issuer=issuer)
        self._jwt_authorizer = JwtAuthorizer(jwks_url)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.monotonic()
        response, target = self._dispatch(request)
        elapsed = (time.monotonic() - started) * 1000
        self._log(f"{request.method:7} {loggable_path(request):40} {response.status_code} {target} {elapsed:.0f} ms")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> tuple[Response, str]:
        if self._openapi and request.method == "GET" and request.path == "/openapi.json":  # Swagger UI: swagger.py
            return _json(200, self._openapi(), self._cors.simple), "OpenAPI"
        if self._connections and (managed := MANAGED_CONNECTION.match(request.path)):
            return self._manage(self._connections, managed["connection_id"], request), "@connections"
        matches = [(route, m) for route in self._routes if (m := route.pattern.match(request.path))]
        if matches and request.method == "OPTIONS":
            return Response(status=204, headers=self._cors.preflight()), "CORS preflight"
        for route, match in matches:
            if route.method == request.method:
                if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
                    if route.integration is not None:  # an HTTP API: no gateway responses, its own body
                        return _json(413, {"message": "Request Entity Too Large"}, {}), "-"
                    too_large = f"Request payload is larger than {MAX_PAYLOAD_BYTES} bytes"
                    return self._errors.render("REQUEST_TOO_LARGE", too_large), "-"
                return self._serve(route, match.groupdict(), request)
        # API Gateway's answer for a path or method it does not have.
        return self._errors.render("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"), "-"

    def _serve(self, route: Route, parameters: dict[str, str], request: Request) -> tuple[Response, str]:
        cors_headers = self._cors.simple
        claims: dict[str, Any] | None = None
        if route.jwt is not None:
            try:
                claims = self._jwt_authorizer.check(route.jwt, dict(request.headers))
            except Refused as refused:
                return _json(refused.status, refused.body, cors_headers), "JWT authorizer"
        elif route.authorized:
            try:
                claims = self._authorizer.claims(dict(request.headers))
            except Unauthenticated as refused:
                return self._errors.render("UNAUTHORIZED", refused.message), "authorizer"
        if route.integration is not None:
            return self._send_to_queue(route.integration, request, cors_headers), "SQS SendMessage"
        assert route.function is not None
        event = rest_event(route, parameters, request, claims)
        try:
            result = self._invoke(route.function, event)
        except Exception:
            return self._errors.render("DEFAULT_5XX", "Internal server error"), route.function
        response = lambda_response(result)
        if response is None:
            return self._errors.render("DEFAULT_5XX", "Internal server error"), route.function
        return response, route.function

    def _manage(self, connections: Connections, connection_id: str, request: Request) -> Response:
        """POST sends to the socket, GET describes it, DELETE closes it; 410 GoneException when it is not open;
        403 for a request not signed with SigV4 for execute-api (the Management API is IAM-authorized)."""
        if not signed_for_execute_api(request.headers.get("Authorization")):
            return _json(403, {"message": "Missing Authentication Token"}, {"x-amzn-ErrorType": "ForbiddenException"})
        done: Any
        if request.method == "POST":
            done = connections.post(connection_id, request.get_data())
        elif request.method == "DELETE":
            done = connections.close(connection_id)
        else:
            done = connections.describe(connection_id)
        if not done:
            gone = {"__type": "GoneException", "message": f"connection {connection_id} is gone"}
            return _json(410, gone, {"x-amzn-ErrorType": "GoneException"})
        return _json(200, done, {}) if isinstance(done, dict) else Response(status=200)

    def _send_to_queue(self, integration: dict[str, Any], request: Request, headers: dict[str, str]) -> Response:
        """An HTTP API's SQS-SendMessage integration. Its refusals are in the HTTP API's own shape,
        `{"message": ...}`: HTTP APIs have no gateway responses (the REST API's shape is not theirs)."""
        parameters = integration["requestParameters"]
        body = message_body(request.get_data())
        if body is None:
            # SQS: "A message can include only XML, JSON, and unformatted text" in the characters #x9 | #xA | #xD |
            # #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF; outside them it refuses the message
            # (InvalidMessageContents, SendMessage in the Amazon SQS API Reference). moto stores them, or, for
            # bytes that are not UTF-8, cannot: refused here, never altered (no U+FFFD) and never queued.
            refused = "InvalidMessageContents: the message contains characters outside the allowed set"
            return _json(400, {"message": refused}, headers)
        if not body:
            return _json(400, {"message": "MessageBody is required"}, headers)
        try:
            content_type, sent = send_message(
                self._stack, parameters["QueueUrl"], body, parameters.get("MessageAttributes", "{}")
            )
        except ClientError as refused:  # SQS's own refusal (a message over its size limit, say) is the caller's
            return _json(400, {"message": refused.response["Error"].get("Message", "refused")}, headers)
        return Response(sent, status=200, headers=headers | {"Content-Type": content_type})  # SQS's answer, as is


# The characters an SQS message may hold (SendMessage, Amazon SQS API Reference): the W3C XML character set.
SQS_CHARACTERS = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def message_body(raw: bytes) -> str | None:
    """The request body as SQS takes a MessageBody; None when SQS would refuse its bytes (not UTF-8, or a
    character outside the allowed set)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if SQS_CHARACTERS.fullmatch(text) else None


# SigV4: `AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/execute-api/aws4_request, SignedHeaders=...,
# Signature=...` (Signature Version 4 signing, the IAM User Guide; the Management API is called with
# execute-api:ManageConnections, "Use @connections commands in your backend service", API Gateway Developer Guide).
SIGV4_EXECUTE_API = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=[^/\s]+/\d{8}/[a-z0-9-]+/execute-api/aws4_request, ?"
    r"SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$"
)


def signed_for_execute_api(authorization: str | None) -> bool:
    """Whether the request carries a SigV4 signature scoped to execute-api (the signature itself is not checked:
    moto's credentials are fake; an unsigned or otherwise signed call is what the local stack refuses)."""
    return bool(authorization and SIGV4_EXECUTE_API.match(authorization))


def loggable_path(request: Request) -> str:
    """The path and query as the client sent them, still percent-encoded (a `%0d%0a` stays in its line), with
    anything unprintable escaped as well."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path.rstrip("?")
    return quote(str(raw), safe=LOGGABLE)


LOGGABLE = "".join(chr(c) for c in range(0x21, 0x7F))  # printable ASCII but space


def rest_event(
    route: Route, parameters: dict[str, str], request: Request, claims: dict[str, Any] | None
) -> dict[str, Any]:
    """The proxy event (payload v1) API Gateway's REST API hands to a Lambda integration."""
    raw = request.get_data()
    try:
        body, encoded = (raw.decode(), False) if raw else (None, False)
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    query = request.args
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "stage": "local",
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourcePath": route.path,
        "httpMethod": route.method,
        "path": request.path,
        "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        "domainName": request.host,
        "identity": {"sourceIp": request.remote_addr, "userAgent": request.headers.get("User-Agent")},
    }
    if claims is not None:
        context["authorizer"] = {"claims": authorizer_claims(claims)}
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": dict(request.headers),
        "multiValueHeaders": {k: request.headers.getlist(k) for k in request.headers.keys()},  # noqa: SIM118
        "queryStringParameters": query.to_dict() or None,
        "multiValueQueryStringParameters": query.to_dict(flat=False) or None,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    }


# How a REST API's Cognito authorizer renders the token's time claims: as Java prints a date, in UTC.
AUTHORIZER_DATE_CLAIMS = frozenset({"exp", "iat"})
AUTHORIZER_DATE_FORMAT = "%a %b %d %H:%M:%S UTC %Y"


def authorizer_claims(verified: dict[str, Any]) -> dict[str, str]:
    """A verified token's claims as a REST API's Cognito authorizer passes them on: every value a string,
    lists (`cognito:groups`) joined by commas, `exp`/`iat` as dates, booleans as true/false."""

    def rendered(name: str, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if name in AUTHORIZER_DATE_CLAIMS and isinstance(value, int | float):
            return time.strftime(AUTHORIZER_DATE_FORMAT, time.gmtime(value))
        if isinstance(value, list | tuple):
            return GROUPS_SEPARATOR.join(str(item) for item in value)
        return str(value)

    return {name: rendered(name, value) for name, value in verified.items()}


def lambda_response(result: Any) -> Response | None:
    """The function's proxy answer as an HTTP response; None when it is not one (API Gateway's 502)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return None
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(data, status=int(result["statusCode"]))
    for key, value in (result.get("headers") or {}).items():
        response.headers[key] = str(value)
    for key, values in (result.get("multiValueHeaders") or {}).items():
        response.headers.setlist(key, [str(v) for v in values])
    return response


def _json(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers)
