"""The body guard's parts: the depth scan agrees with the parser, and strict parsing only ever refuses."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform import json_body, json_depth
from dropshop.platform.errors import MalformedRequest

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('ab[]{}"\\:,')),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=30,
)


def nesting(document: Any) -> int:
    if isinstance(document, list):
        return 1 + max(map(nesting, document), default=0)
    if isinstance(document, dict):
        return 1 + max(map(nesting, document.values()), default=0)
    return 0


@given(documents)
@example(["[[[", {"{": "]]]"}])
def test_the_depth_scan_counts_what_the_parser_nests_and_skips_brackets_in_strings(document: Any) -> None:
    assert json_depth.depth(json.dumps(document).encode()) == nesting(document)


@given(st.text(alphabet=st.sampled_from('[]{}"\\:,0123456789.eE-+ abtrunlfNIy'), max_size=200))
@example("[" * 10_000)
@example('"' + "[" * 10_000)
def test_strict_parsing_answers_a_value_or_a_400_never_anything_else(text: str) -> None:
    with contextlib.suppress(MalformedRequest):  # a 400; any other exception fails the test
        json_body.loads(text)


def test_duplicate_keys_are_refused_naming_the_key() -> None:
    with pytest.raises(MalformedRequest) as refused:
        json_body.loads('{"lines": [{"quantity": -5, "quantity": 1}]}')
    assert refused.value.field == "quantity"
