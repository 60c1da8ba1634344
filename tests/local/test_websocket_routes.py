"""The local WebSocket API picks a message's route as API Gateway does: by the route selection expression, among
the custom routes only, else `$default`; whatever the message, it never crashes the router."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.local.websocket import WebSocketApi, WebSocketRoute


def api(*keys: str) -> WebSocketApi:
    routes = {key: WebSocketRoute(key, "WebSocketFunction", two_way=key == "subscribe") for key in keys}
    return WebSocketApi("WebSocketApi", "live", ["action"], routes)


TEMPLATES_ROUTES = api("$connect", "$disconnect", "subscribe")
WITH_DEFAULT = api("$connect", "$disconnect", "subscribe", "$default")


@pytest.mark.parametrize("action", ["$connect", "$disconnect"])
def test_a_message_naming_a_lifecycle_route_never_reaches_it(action: str) -> None:
    message = json.dumps({"action": action, "orderId": "o-1"})
    assert TEMPLATES_ROUTES.route_for(message) is None  # no $default here: API Gateway's "Forbidden" answer
    selected = WITH_DEFAULT.route_for(message)
    assert selected is not None
    assert selected.key == "$default"


@given(depth=st.integers(1_000, 200_000), action=st.sampled_from(["subscribe", "$disconnect"]))
def test_a_message_nested_however_deep_is_routed_without_crashing(depth: int, action: str) -> None:
    nested = "[" * depth + "]" * depth
    wrapped = '{"action": "' + action + '", "orderId": ' + nested + "}"
    assert TEMPLATES_ROUTES.route_for(nested) is None
    selected = WITH_DEFAULT.route_for(wrapped)
    assert selected is not None
    assert selected.key in {"subscribe", "$default"}
    assert selected.key != "$disconnect"


def test_a_custom_route_is_selected_by_its_action() -> None:
    selected = TEMPLATES_ROUTES.route_for('{"action": "subscribe", "orderId": "o-1"}')
    assert selected is not None
    assert selected.key == "subscribe"
