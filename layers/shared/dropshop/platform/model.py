"""The base for API-facing models (camelCase on the wire, snake_case in Python, unknown fields refused) and the
text types requests and pipeline records use: trimmed, and nothing a reader cannot see."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, StringConstraints
from pydantic.alias_generators import to_camel

# Control (Cc: NUL, escapes), format (Cf: U+202E and the other bidi overrides) and lone surrogates (Cs, which
# cannot be stored as UTF-8).
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )


def printable(text: str, *, allowed: frozenset[str] = frozenset()) -> str:
    """`text` unchanged, or ValueError naming the first control or format character in it."""
    if text.isprintable():  # in C, and stricter than the rule below (it refuses separators too): the common case
        return text
    for position, character in enumerate(text):
        if unicodedata.category(character) in UNPRINTABLE_CATEGORIES and character not in allowed:
            raise ValueError(f"must not contain control or format characters (U+{ord(character):04X} at {position})")
    return text


def _printable_lines(text: str) -> str:
    return printable(text, allowed=frozenset("\n"))


# Request text, trimmed: a one-line name (1 character at least) or free text that may be empty and span lines.
# Bound their length where used: Annotated[Name, StringConstraints(max_length=...)].
Name = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(printable)]
Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True), AfterValidator(_printable_lines)]
