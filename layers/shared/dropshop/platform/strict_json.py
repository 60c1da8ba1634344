"""Strict JSON: the one reading of JSON text that every door applies, the REST API's bodies, files' records and
`POST /writer` alike. A key that appears twice in one object, NaN or Infinity, and a number too large for a float
are refused, naming the key where there is one: never a silent pick between two values.

Nesting depth is checked on the bytes before this (`json_depth`), since `json.loads` recurses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any


class StrictJsonError(ValueError):
    """JSON that is well-formed but not strict; `field` names the key at fault, None when there is none."""

    def __init__(self, problem: str, *, field: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.field = field


def loads(text: str | bytes, *, parse_int: Callable[[str], Any] | None = None) -> Any:
    """`text` as a JSON value; StrictJsonError for what strict JSON refuses, json.JSONDecodeError (a ValueError)
    for what is no JSON at all, ValueError for an integer beyond Python's conversion limit (4,300 digits)."""
    return json.loads(
        text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite, parse_int=parse_int
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise StrictJsonError(f"key {key!r} appears more than once", field=key)
            seen.add(key)
    return found


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a JSON number")


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):  # 1e999 reads as infinity
        raise StrictJsonError(f"{literal[:32]} is too large a number")
    return number
