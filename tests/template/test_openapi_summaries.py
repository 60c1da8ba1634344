"""Swagger reads well: every operation of docs/openapi.json has a summary (not its method and path again)
and a description."""

from __future__ import annotations

import json
from pathlib import Path

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
OPERATIONS = [(method, path, op) for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()]


def test_every_operation_has_a_summary_that_is_not_its_method_and_path() -> None:
    for method, path, operation in OPERATIONS:
        summary = operation.get("summary", "")
        assert summary, (method, path)
        assert path not in summary, (method, path, summary)
        assert not summary.startswith(f"{method.upper()} /"), (method, path, summary)


def test_every_operation_has_a_description() -> None:
    assert [(method, path) for method, path, operation in OPERATIONS if not operation.get("description")] == []
