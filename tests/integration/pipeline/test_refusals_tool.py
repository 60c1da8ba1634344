"""`make refusals`: every refused record in one listing, or one file's through the byOrigin index."""

from __future__ import annotations

import json

import pytest

from tests.integration.pipeline.settled import file_origin, ndjson, send_like_the_http_api
from tools import refusals
from tools.local.stack import Stack
from tools.local.wiring import Wiring


def test_the_listing_holds_every_refused_record_and_filters_by_origin(
    stack: Stack, wiring: Wiring, capsys: pytest.CaptureFixture[str]
) -> None:
    wiring.upload("incoming/a.ndjson", ndjson({"id": "acc-1"}, b"{broken"))
    wiring.upload("incoming/b.json", b"not json")
    send_like_the_http_api(stack, '{"id": "acc-2"}')
    wiring.drain()
    table = stack.physical["LogTable"]
    capsys.readouterr()  # the functions' own log lines

    refusals.main(["--table", table])
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((e["origin"], int(e["position"])) for e in listed) == [
        ("POST /writer", 0),
        (file_origin(stack, "incoming/a.ndjson"), 0),
        (file_origin(stack, "incoming/a.ndjson"), len(ndjson({"id": "acc-1"}))),
        (file_origin(stack, "incoming/b.json"), 0),
    ]

    refusals.main(["--table", table, "--origin", file_origin(stack, "incoming/b.json")])
    (entry,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "not JSON" in entry["reason"]
