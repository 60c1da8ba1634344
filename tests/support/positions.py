"""Where the readers place a record: the byte offset of its first byte in the (decompressed) file or API body, a
BOM counted (docs/pipeline.md, "Positions"). Tests name positions through these, not by counting bytes."""

from __future__ import annotations

import codecs
import json


def line_positions(data: bytes) -> list[int]:
    """The position of each NDJSON record in `data`: the first non-blank byte of every line that is not blank."""
    positions: list[int] = []
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    for line in data[start:].split(b"\n"):
        if line.strip():
            positions.append(start + len(line) - len(line.lstrip()))
        start += len(line) + 1
    return positions


def array_positions(records: list[object]) -> list[int]:
    """The position of each item of `json.dumps(records)`: after its '[' and each ', '."""
    positions: list[int] = []
    start = 1
    for record in records:
        positions.append(start)
        start += len(json.dumps(record).encode()) + len(", ")
    return positions
