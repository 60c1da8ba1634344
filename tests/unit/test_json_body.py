"""The body guard's parts: the depth scan agrees with the parser, and strict parsing only ever refuses."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel

from dropshop.platform import http, json_body, json_depth
from dropshop.platform.errors import MalformedRequest
from tools.local.lambda_context import LambdaContext

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('ab[]{}"\\:,')),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=30,
)


class Lines(BaseModel):
    lines: list[int]


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
        json_body.read(text, base64_encoded=False, content_type=None)


def test_duplicate_keys_are_refused_naming_the_key() -> None:
    with pytest.raises(MalformedRequest) as refused:
        json_body.read('{"lines": [{"quantity": -5, "quantity": 1}]}', base64_encoded=False, content_type=None)
    assert refused.value.field == "quantity"


def test_a_guarded_body_is_decoded_scanned_and_parsed_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    app = http.rest_resolver(enable_validation=True)

    @app.post("/lines")
    def count_lines(request: Lines) -> dict[str, int]:
        return {"lines": len(request.lines), "characters": len(app.current_event.decoded_body or "")}

    calls = {"decoded": 0, "scanned": 0, "parsed": 0}

    def counted(name: str, function: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(json_body, "_raw_bytes", counted("decoded", json_body._raw_bytes))
    monkeypatch.setattr(json_body, "deeper_than", counted("scanned", json_body.deeper_than))
    monkeypatch.setattr(json_body, "_strict", counted("parsed", json_body._strict))
    body = json.dumps({"lines": [1, 2, 3]})
    event = {
        "resource": "/lines",
        "path": "/lines",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
        "requestContext": {"resourcePath": "/lines", "httpMethod": "POST", "stage": "test"},
    }
    response = app.resolve(event, LambdaContext())
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"lines": 3, "characters": len(body)})
    assert calls == {"decoded": 1, "scanned": 1, "parsed": 1}
