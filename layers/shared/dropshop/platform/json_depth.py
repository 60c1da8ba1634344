"""How deep JSON nests, measured on its bytes without parsing: what both the REST body guard and the pipeline's
record reader check before `json.loads`, which recurses (and raises RecursionError beyond ~8,000 levels)."""

from __future__ import annotations

import re

MAX_DEPTH = 32  # an account record or a request body is a few levels deep; nothing real comes near this

# Strings (to step over brackets inside them; an unterminated one runs to the end) and brackets.
NESTING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
OPENERS = b"[{"
CLOSERS = b"]}"


def depth(raw: bytes) -> int:
    """How deep arrays and objects nest, counted over the brackets outside string literals."""
    deepest = level = 0
    for token in NESTING.finditer(raw):
        first = raw[token.start()]
        if first in OPENERS:
            level += 1
            deepest = max(deepest, level)
        elif first in CLOSERS:
            level -= 1
    return deepest


def deeper_than(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether `raw` nests deeper than `limit`, stopping as soon as it does."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the common case, counted in C
        return False
    level = 0
    for token in NESTING.finditer(raw):
        first = raw[token.start()]
        if first in OPENERS:
            level += 1
            if level > limit:
                return True
        elif first in CLOSERS:
            level -= 1
    return False
