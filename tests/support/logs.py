"""Reading what Powertools' Logger wrote, as parsed JSON lines."""

from __future__ import annotations

import io
import json
from typing import Any


class LogLines:
    """The structured log lines Powertools' Logger wrote during a test, parsed."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines() if line.startswith("{")]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.all() if line.get("message") == message]
