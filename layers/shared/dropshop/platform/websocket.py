"""What a WebSocket API's Lambda proxy integration hands over, routed by route key.

A route answers with a model (sent back on the socket where the route has a route response) or nothing;
domain errors become the status code and JSON body, so `$connect` refuses with 401 like a REST route would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dropshop.platform import json_body
from dropshop.platform.errors import DomainError, MalformedRequest, NotFound, invalid_request

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class WebSocketRequest:
    event: dict[str, Any]

    @property
    def connection_id(self) -> str:
        return str(self.event["requestContext"]["connectionId"])

    @property
    def route_key(self) -> str:
        return str(self.event["requestContext"]["routeKey"])

    def query(self, name: str) -> str | None:
        value = (self.event.get("queryStringParameters") or {}).get(name)
        return str(value) if value else None

    def message(self, model: type[Model]) -> Model:
        """The message body as `model`, read by the REST body guard (size, UTF-8, nesting depth, strict JSON):
        400 (413) when it may not be read, 422 naming the field when it does not fit."""
        text = self.event.get("body")
        if not text:
            raise MalformedRequest("messages are JSON objects", field="body")
        # A message has no media type: a WebSocket text frame is UTF-8 by definition (RFC 6455 §5.6).
        body = json_body.read(text, base64_encoded=bool(self.event.get("isBase64Encoded")), content_type=None).value
        try:
            return model.model_validate(body)
        except ValidationError as error:
            raise InvalidMessage(invalid_request([{**p, "loc": ("body", *p["loc"])} for p in error.errors()])) from None


class InvalidMessage(DomainError):
    """A message that does not fit its model: the REST API's validation error body, field and details."""

    status = 422
    code = "invalid_request"

    def __init__(self, body: dict[str, object]) -> None:
        super().__init__(str(body["message"]), field=str(body["field"]))
        self._body = body

    def as_body(self) -> dict[str, object]:
        return self._body


Route = Callable[[WebSocketRequest], BaseModel | None]


def dispatch(event: dict[str, Any], routes: Mapping[str, Route]) -> dict[str, Any]:
    request = WebSocketRequest(event)
    route = routes.get(request.route_key)
    try:
        if route is None:
            raise NotFound(f"no route {request.route_key}", field="action")
        answer = route(request)
    except DomainError as error:
        return {"statusCode": error.status, "body": json.dumps(error.as_body())}
    if answer is None:
        return {"statusCode": 200}
    return {"statusCode": 200, "body": answer.model_dump_json(by_alias=True)}
