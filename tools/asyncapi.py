"""docs/asyncapi.json: the WebSocket API's protocol as AsyncAPI 3.0, generated from the messages' models.

    python -m tools.asyncapi            # writes docs/asyncapi.json (`make asyncapi`; a test fails when it is stale)

The message schemas are the pydantic models the WebSocket function parses and sends (`dropshop.realtime`), so
the document cannot drift from the code; the channel, its routes and the sign-in come from template.yaml's
WebSocket API (`$request.body.action`, the ID token as the `token` query parameter).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "asyncapi.json"


def document(server: str | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "layers" / "shared"))
    from dropshop.realtime.model import OrderStatusMessage, Subscribe

    subscribe = Subscribe.model_json_schema(by_alias=True)
    subscribe["properties"]["action"] |= {"const": "subscribe"}
    status = OrderStatusMessage.model_json_schema(by_alias=True)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Drop Shop order updates (WebSocket API)",
            "version": "1",
            "description": (
                "A signed-in browser follows its orders: it connects with its Cognito ID token as the `token` "
                "query parameter (browsers cannot set headers on a WebSocket; a missing or invalid token refuses "
                "the handshake with 401), sends `subscribe` for an order it may read, receives that order's "
                "status at once, then every change as it happens. Messages are routed by their `action` field. "
                "API Gateway closes a connection after two hours: reconnect and subscribe again."
            ),
        },
        "servers": {
            "local": {
                "host": server or "127.0.0.1:3001",
                "protocol": "ws",
                "description": "`make local` (WS_PORT); deployed: the stack's WebSocketUrl output",
            }
        },
        "channels": {
            "orders": {
                "address": "/",
                "parameters": {},
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "required": ["token"],
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "The Cognito ID token of the signed-in user.",
                                }
                            },
                        }
                    }
                },
                "messages": {
                    "subscribe": {
                        "name": "subscribe",
                        "payload": subscribe,
                        "examples": [
                            {"payload": {"action": "subscribe", "orderId": "0b5e7c1a-3f5d-4a8e-9c61-2d4f8e9a7b10"}}
                        ],
                    },
                    "orderStatus": {"name": "orderStatus", "payload": status},
                },
            }
        },
        "operations": {
            "subscribe": {
                "action": "send",
                "channel": {"$ref": "#/channels/orders"},
                "summary": "Follow one order",
                "messages": [{"$ref": "#/channels/orders/messages/subscribe"}],
                "reply": {
                    "channel": {"$ref": "#/channels/orders"},
                    "messages": [{"$ref": "#/channels/orders/messages/orderStatus"}],
                },
            },
            "orderStatus": {
                "action": "receive",
                "channel": {"$ref": "#/channels/orders"},
                "summary": "An order's status: the answer to subscribe, then each change",
                "messages": [{"$ref": "#/channels/orders/messages/orderStatus"}],
            },
        },
    }


def main() -> int:
    DOCUMENT.write_text(json.dumps(document(), indent=2) + "\n")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
