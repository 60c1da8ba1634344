"""The WebSocket API's routes: $connect (signed-in users only), $disconnect and subscribe."""

from dropshop.identity import service as identity
from dropshop.platform import aws, websocket
from dropshop.platform.observability import logger, metrics, tracer
from dropshop.realtime import service as realtime
from dropshop.realtime.model import OrderStatusMessage, Subscribe

# $connect verifies a token and every route touches ConnectionsTable: build both during init.
identity.verifier()
aws.client("dynamodb")


@tracer.capture_method
def connect(request: websocket.WebSocketRequest) -> None:
    # Browsers cannot set headers on a WebSocket: the ID token comes as the `token` query parameter.
    realtime.connect(request.connection_id, request.query("token"))


@tracer.capture_method
def disconnect(request: websocket.WebSocketRequest) -> None:
    realtime.disconnect(request.connection_id)


@tracer.capture_method
def subscribe(request: websocket.WebSocketRequest) -> OrderStatusMessage:
    return realtime.subscribe(request.connection_id, request.message(Subscribe))


ROUTES = {"$connect": connect, "$disconnect": disconnect, "subscribe": subscribe}


@logger.inject_lambda_context(correlation_id_path="requestContext.connectionId")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return websocket.dispatch(event, ROUTES)
