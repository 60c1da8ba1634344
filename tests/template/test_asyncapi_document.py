"""docs/asyncapi.json is what `make asyncapi` generates from the WebSocket messages' models (never stale), and
its message schemas accept what the WebSocket function really sends and takes."""

from __future__ import annotations

import json

from dropshop.realtime.model import OrderStatusMessage, Subscribe
from tools import asyncapi


def test_the_committed_document_is_the_generated_one() -> None:
    assert json.loads(asyncapi.DOCUMENT.read_text()) == asyncapi.document(), "stale: run `make asyncapi`"


def test_the_documented_messages_are_the_models_fields() -> None:
    messages = asyncapi.document()["channels"]["orders"]["messages"]
    example = messages["subscribe"]["examples"][0]["payload"]
    assert Subscribe.model_validate(example).order_id == example["orderId"]
    pushed = json.loads(
        OrderStatusMessage(order_id="o-1", status="SHIPPED", previous="CONFIRMED", at="t", stage=3).to_json()
    )
    assert set(pushed) == set(messages["orderStatus"]["payload"]["properties"])
