"""Sample events from events/, the same files `sam local invoke -e` takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str, **placeholders: str) -> dict[str, Any]:
    """events/<name>.json with `{{PLACEHOLDER}}`s filled in (tokens are never committed)."""
    text = (EVENTS / f"{name}.json").read_text()
    for key, value in placeholders.items():
        text = text.replace("{{" + key + "}}", value)
    event: dict[str, Any] = json.loads(text)
    return event


def with_body(event: dict[str, Any], body: str) -> dict[str, Any]:
    return {**event, "body": body}
