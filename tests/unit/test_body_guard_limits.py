"""The body guard's limits at their edges (found by `make mutate`): the early depth exit agrees with the full scan,
the size, depth and media-type limits sit exactly where they say, and each refusal names its status and field."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.platform import json_body, json_depth
from dropshop.platform.errors import DomainError, MalformedRequest, PayloadTooLarge, UnsupportedMediaType

documents = st.recursive(
    st.none() | st.integers() | st.text(alphabet=st.sampled_from('ab[]{}"\\'), max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=2), children, max_size=3),
    max_leaves=40,
)


@given(st.one_of(documents.map(lambda d: json.dumps(d).encode()), st.binary(max_size=40)), st.integers(0, 8))
@example(b"[]" * 40, 1)  # many shallow arrays: more brackets than the limit, none nested beyond it
@example(b"{}" * 40, 1)
@example(b"[[" + b"{}" * 40 + b"]]", 2)
@example(b'["' + b"[" * 40 + b'"]', 1)  # brackets inside a string do not nest
@example(b'["\\"' + b"[" * 40 + b'"]', 1)  # nor after an escaped quote
@example(b'"' + b"{" * 40, 0)  # an unterminated string runs to the end
def test_the_early_exit_agrees_with_the_full_depth_scan(raw: bytes, limit: int) -> None:
    assert json_depth.deeper_than(raw, limit) == (json_depth.depth(raw) > limit)


@pytest.mark.parametrize(("raw", "expected"), [(b"[]" * 50, 1), (b"[{}]" * 50, 2), (b"[[]][[[]]]", 3), (b"", 0)])
def test_closing_brackets_end_a_level(raw: bytes, expected: int) -> None:
    assert json_depth.depth(raw) == expected


def read(text: str, content_type: str | None = None) -> Any:
    return json_body.read(text, base64_encoded=False, content_type=content_type).value


def refusal(error: type[DomainError], text: str, content_type: str | None = None, **kwargs: Any) -> DomainError:
    with pytest.raises(error) as refused:
        json_body.read(text, base64_encoded=kwargs.get("base64_encoded", False), content_type=content_type)
    return refused.value


def test_the_depth_limit_admits_its_own_depth_and_refuses_one_more() -> None:
    limit = json_depth.MAX_DEPTH
    assert read("[" * limit + "]" * limit) == json.loads("[" * limit + "]" * limit)
    refused = refusal(MalformedRequest, "[" * (limit + 1) + "]" * (limit + 1))
    assert (refused.status, refused.field) == (400, "body")
    assert f"deeper than {limit} levels" in refused.message


def test_the_size_limit_admits_its_own_size_and_refuses_one_byte_more() -> None:
    padding = json_body.MAX_BODY_BYTES - len('{"a":""}')
    assert read('{"a":"' + "x" * padding + '"}') == {"a": "x" * padding}
    refused = refusal(PayloadTooLarge, '{"a":"' + "x" * (padding + 1) + '"}')
    assert (refused.status, refused.field) == (413, "body")
    assert str(json_body.MAX_BODY_BYTES) in refused.message


def test_the_size_limit_counts_bytes_not_characters() -> None:
    euro = "€"  # three bytes in UTF-8
    refused = refusal(PayloadTooLarge, json.dumps(euro * (json_body.MAX_BODY_BYTES // 3), ensure_ascii=False))
    assert refused.status == 413


@pytest.mark.parametrize(
    "content_type",
    [None, "", "  ", "application/json", "APPLICATION/JSON", " application/json ; charset=UTF-8",
     'application/json; charset="utf8"', "application/json;CHARSET=utf-8", "application/json; boundary=x"],
)  # fmt: skip
def test_json_media_types_are_read(content_type: str | None) -> None:
    assert read('{"a": 1}', content_type) == {"a": 1}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/json-seq", "application/jsonx", "application/json; charset=latin-1",
     "application/json; charset=utf-8; charset=utf-16", "text/plain; application/json",
     "application/json; charset=latin-1=utf-8"],
)  # fmt: skip
def test_other_media_types_are_refused_naming_the_header(content_type: str) -> None:
    refused = refusal(UnsupportedMediaType, '{"a": 1}', content_type)
    assert (refused.status, refused.field) == (415, "Content-Type")
    assert content_type in refused.message
    assert json_body.JSON_MEDIA_TYPE in refused.message


def test_an_empty_body_holds_no_value() -> None:
    assert json_body.read("", base64_encoded=False, content_type="text/plain") == json_body.Body("", None)
    assert json_body.read(None, base64_encoded=True, content_type=None) == json_body.Body(None, None)


def test_a_base64_body_is_decoded_before_it_is_read() -> None:
    encoded = base64.b64encode('{"name": "Zoë"}'.encode()).decode()
    body = json_body.read(encoded, base64_encoded=True, content_type="application/json")
    assert body == json_body.Body('{"name": "Zoë"}', {"name": "Zoë"})


@pytest.mark.parametrize("encoded", ["not base64!", "eyJhIjoxfQ", "eyJhIjoxfQ==\n"])
def test_a_body_that_is_not_base64_is_a_400(encoded: str) -> None:
    refused = refusal(MalformedRequest, encoded, base64_encoded=True)
    assert (refused.field, refused.message) == ("body", "body is not valid base64")


def test_bytes_that_are_not_utf8_are_a_400_naming_the_first_bad_byte() -> None:
    refused = refusal(MalformedRequest, base64.b64encode(b'{"a": "\xff"}').decode(), base64_encoded=True)
    assert refused.field == "body"
    assert "byte 7" in refused.message
    lone_surrogate = refusal(MalformedRequest, '{"a": "\ud800"}')
    assert lone_surrogate.field == "body"
    assert "UTF-8" in lone_surrogate.message


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_nan_and_infinity_are_refused(text: str) -> None:
    refused = refusal(MalformedRequest, text)
    assert refused.field == "body"
    assert "is not a JSON number" in refused.message


def test_finite_numbers_are_read_and_numbers_beyond_a_float_are_refused() -> None:
    assert read("[1.5, -0.25, 1e308, 7]") == [1.5, -0.25, 1e308, 7]
    refused = refusal(MalformedRequest, "[1e999]")
    assert refused.field == "body"
    assert "1e999 is too large a number" in refused.message
    assert refusal(MalformedRequest, "9" * 400 + ".0e999").message == "9" * 32 + " is too large a number"


def test_integers_beyond_conversion_and_broken_json_are_400s_saying_why() -> None:
    too_long = refusal(MalformedRequest, "1" * 5000)
    assert too_long.field == "body"
    assert "a number this API cannot read" in too_long.message
    broken = refusal(MalformedRequest, '{"a": }')
    assert broken.field == "body"
    assert broken.message.startswith("body is not valid JSON: Expecting value at position 6")


def test_a_duplicate_key_anywhere_is_refused_and_distinct_keys_are_kept() -> None:
    assert read('{"a": {"b": 1, "c": 2}, "d": [{"b": 3}]}') == {"a": {"b": 1, "c": 2}, "d": [{"b": 3}]}
    refused = refusal(MalformedRequest, '{"d": [{"b": 3, "b": 4}]}')
    assert (refused.field, refused.message) == ("b", "key 'b' appears more than once")
