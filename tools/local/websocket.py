"""API Gateway's WebSocket API on 127.0.0.1, from template.yaml: `$connect` may refuse the handshake,
messages are routed by the API's route selection expression, a route with a route response sends the
function's answer back, and `$disconnect` follows every close. The Management API the functions push
through (`POST|GET|DELETE /<stage>/@connections/<id>`) is served by the HTTP gateway, which hands it here.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from tools.local.gateway import Invoke, Log
from tools.local.stack import Stack

# Routes API Gateway calls when a connection opens and closes, never for a message.
LIFECYCLE_ROUTES = frozenset({"$connect", "$disconnect"})


@dataclass(frozen=True)
class WebSocketRoute:
    key: str
    function: str
    two_way: bool  # has a route response: the function's answer goes back to the client


@dataclass(frozen=True)
class WebSocketApi:
    logical_id: str
    stage: str
    route_selection: list[str]  # `$request.body.action` → ["action"]
    routes: dict[str, WebSocketRoute]

    def route_for(self, text: str) -> WebSocketRoute | None:
        """The custom route a message selects, else `$default` (None when there is neither). "API Gateway calls
        the $default route if the route selection expression cannot be evaluated against the message or if no
        matching route is found"; $connect and $disconnect are called for the connection's life cycle only
        (Create routes for WebSocket APIs in API Gateway, docs.aws.amazon.com/apigateway/latest/developerguide/
        websocket-api-develop-routes.html): a message saying `"action": "$disconnect"` selects no route."""
        selected: Any
        try:
            selected = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, a number beyond conversion, or nested too deep
            selected = None
        for field in self.route_selection:
            selected = selected.get(field) if isinstance(selected, dict) else None
        custom = selected if isinstance(selected, str) and selected not in LIFECYCLE_ROUTES else ""
        return self.routes.get(custom) or self.routes.get("$default")


def websocket_api(stack: Stack) -> WebSocketApi:
    """The template's one WebSocket API: its routes, stage and route selection expression."""
    ((api, spec),) = [
        (name, r)
        for name, r in stack.of_type("AWS::ApiGatewayV2::Api").items()
        if r["Properties"]["ProtocolType"] == "WEBSOCKET"
    ]
    integrations = {
        name: _function_of(stack, r["Properties"]["IntegrationUri"])
        for name, r in stack.of_type("AWS::ApiGatewayV2::Integration").items()
    }
    routes = {}
    for route in stack.of_type("AWS::ApiGatewayV2::Route").values():
        props = route["Properties"]
        integration = props["Target"]["Fn::Sub"].removeprefix("integrations/${").removesuffix("}")
        key = props["RouteKey"]
        routes[key] = WebSocketRoute(key, integrations[integration], "RouteResponseSelectionExpression" in props)
    (stage,) = [stack.resolve(s["Properties"]["StageName"]) for s in stack.of_type("AWS::ApiGatewayV2::Stage").values()]
    expression = spec["Properties"]["RouteSelectionExpression"]
    assert expression.startswith("$request.body."), f"route selection {expression} is not emulated here"
    return WebSocketApi(api, stage, expression.removeprefix("$request.body.").split("."), routes)


def _function_of(stack: Stack, uri: Any) -> str:
    """The function behind `...functions/${<Function>Aliaslive}/invocations`."""
    text = uri["Fn::Sub"] if isinstance(uri, dict) else str(uri)
    for name in stack.of_type("AWS::Serverless::Function"):
        if f"${{{name}Alias" in text or f"${{{name}.Arn}}" in text:
            return name
    raise KeyError(f"no function behind integration {text}")


@dataclass(frozen=True)
class Socket:
    """An accepted connection, as API Gateway knows it."""

    connection_id: str
    connected_at: int  # epoch milliseconds
    source_ip: str  # kept: a closed connection no longer knows its peer
    domain_name: str
    connection: ServerConnection


class WebSocketGateway:
    def __init__(self, stack: Stack, invoke: Invoke, log: Log = print) -> None:
        self._stack = stack
        self._invoke = invoke
        self._log = log
        self.api = websocket_api(stack)
        self._sockets: dict[ServerConnection, Socket] = {}  # from the handshake on
        self._open: dict[str, Socket] = {}  # accepted by $connect, until closed
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._serving = False

    def bind(self, listening: socket.socket) -> None:
        """Serve on a socket already listening (tools.local.ports)."""
        self._server = serve(self._converse, sock=listening, process_request=self._connect, compression=None)

    def serve(self) -> None:
        assert self._server is not None
        threading.Thread(target=self._server.serve_forever, name="websocket-api", daemon=True).start()
        self._serving = True

    def stop(self) -> None:
        """Close every socket ($disconnect runs for each) and stop listening."""
        if self._server is None:
            return
        if self._serving:
            self._server.shutdown()  # waits for serve_forever: only if it ever ran
        else:
            self._server.socket.close()

    # ------------------------------------------------------------------ the Management API

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send to the connection; False when it is gone (API Gateway's 410 GoneException)."""
        socket = self._accepted(connection_id)
        if socket is None:
            return False
        try:
            socket.connection.send(_frame(data))
        except ConnectionClosed:
            return False
        return True

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        socket = self._accepted(connection_id)
        if socket is None:
            return None
        return {"connectedAt": socket.connected_at, "identity": {"sourceIp": socket.source_ip}}

    def close(self, connection_id: str) -> bool:
        socket = self._accepted(connection_id)
        if socket is None:
            return False
        socket.connection.close()
        return True

    def _accepted(self, connection_id: str) -> Socket | None:
        with self._lock:
            return self._open.get(connection_id)

    # ------------------------------------------------------------------ the client's side

    def _connect(self, connection: ServerConnection, request: Request) -> Response | None:
        connection_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:10]).decode()  # no "/": it goes in URLs
        source_ip, port = connection.remote_address[0], connection.local_address[1]
        socket = Socket(connection_id, int(time.time() * 1000), source_ip, f"127.0.0.1:{port}", connection)
        with self._lock:
            self._sockets[connection] = socket
        event = self._event(socket, "$connect", "CONNECT")
        event["headers"] = dict(request.headers.raw_items())
        event["multiValueHeaders"] = {k: request.headers.get_all(k) for k in request.headers}
        query = _query(request.path)
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
        status, body = self._call("$connect", event)
        if status != 200:
            self._log(f"WS      $connect {connection_id} refused {status}")
            with self._lock:
                del self._sockets[connection]
            return Response(status, _reason(status), Headers({"Content-Type": "application/json"}), body.encode())
        with self._lock:
            self._open[connection_id] = socket
        self._log(f"WS      $connect {connection_id} 200")
        return None

    def _converse(self, connection: ServerConnection) -> None:
        with self._lock:
            socket = self._sockets[connection]
        try:
            for message in connection:
                text = message if isinstance(message, str) else message.decode(errors="replace")
                answer = self._message(socket, text)
                if answer is not None:
                    connection.send(answer)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._open.pop(socket.connection_id, None)
                self._sockets.pop(connection, None)
            event = self._event(socket, "$disconnect", "DISCONNECT")
            event["requestContext"] |= {"disconnectStatusCode": connection.close_code or 1006, "disconnectReason": ""}
            self._call("$disconnect", event)
            self._log(f"WS      $disconnect {socket.connection_id}")

    def _message(self, socket: Socket, text: str) -> str | None:
        """The route's answer for a two-way route (or API Gateway's error), else None."""
        route = self.api.route_for(text)
        event = self._event(socket, route.key if route else "", "MESSAGE")
        if route is None:  # what API Gateway answers when no route matches and there is no $default
            return json.dumps(
                {
                    "message": "Forbidden",
                    "connectionId": event["requestContext"]["connectionId"],
                    "requestId": event["requestContext"]["requestId"],
                }
            )
        event["body"] = text
        status, body = self._call(route.key, event)
        self._log(f"WS      {route.key} {event['requestContext']['connectionId']} {status}")
        if status >= 500:
            return json.dumps(
                {"message": "Internal server error", "connectionId": event["requestContext"]["connectionId"]}
            )
        return body if route.two_way and body else None

    def _call(self, key: str, event: dict[str, Any]) -> tuple[int, str]:
        try:
            route = self.api.routes.get(key)
            result = self._invoke(route.function, event) if route else {"statusCode": 200}
        except Exception:
            return 502, json.dumps({"message": "Internal server error"})
        if not isinstance(result, dict):
            return 200, ""
        return int(result.get("statusCode", 200)), str(result.get("body") or "")

    def _event(self, socket: Socket, route_key: str, event_type: str) -> dict[str, Any]:
        """The proxy event a WebSocket API hands its Lambda integration."""
        now = time.time()
        return {
            "requestContext": {
                "routeKey": route_key,
                "eventType": event_type,
                "messageDirection": "IN",
                "messageId": base64.b64encode(uuid.uuid4().bytes[:10]).decode() if event_type == "MESSAGE" else None,
                "extendedRequestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "stage": self.api.stage,
                "connectedAt": socket.connected_at,
                "identity": {"sourceIp": socket.source_ip},
                "requestId": str(uuid.uuid4()),
                "domainName": socket.domain_name,
                "connectionId": socket.connection_id,
                "apiId": self._stack.physical[self.api.logical_id],
            },
            "isBase64Encoded": False,
        }


def _query(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query))


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase


def _frame(data: bytes) -> str | bytes:
    """UTF-8 data goes out as a text frame, anything else as binary, as API Gateway sends it."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data
