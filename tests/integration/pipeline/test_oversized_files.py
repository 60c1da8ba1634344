"""A file that expands beyond INGEST_MAX_BYTES (a gzip bomb of padding) is failed, not read until the timeout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dropshop.platform import settings
from tests.integration.pipeline.settled import file_entry, file_origin, ndjson, refusals, stored, version
from tests.support.positions import array_positions, line_positions
from tools.bombs import gzip_bomb
from tools.local.stack import Stack
from tools.local.wiring import Wiring

MAX_BYTES = 1024 * 1024  # small, so that the bomb below (64 MiB expanded) is built and read in a moment
VALID: dict[str, Any] = {
    "id": "acc-1",
    "name": "Ada",
    "email": "ada@example.com",
    "status": "active",
    "balanceCents": 100,
    "updatedAt": "2026-11-24T12:00:00Z",
}
BEFORE, INVALID, AFTER = VALID | {"id": "acc-before"}, VALID | {"email": "nope"}, VALID | {"id": "acc-after"}
NDJSON_HEAD, ARRAY_HEAD = ndjson(BEFORE, INVALID), json.dumps([BEFORE, INVALID]).encode()[:-1] + b","


@pytest.fixture
def max_bytes(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("INGEST_MAX_BYTES", str(MAX_BYTES))
    # Read whole, in one invocation: no bigger than a chunk once decompressed. (A bigger gzip file is staged and
    # read in chunks, each with its own INGEST_MAX_BYTES; what is staged stops at INGEST_SPLIT_MAX_BYTES:
    # test_chunked_files.py.)
    monkeypatch.setenv("INGEST_CHUNK_BYTES", str(128 * MAX_BYTES))
    settings.settings.cache_clear()
    yield MAX_BYTES
    settings.settings.cache_clear()


@pytest.mark.parametrize(
    ("key", "head", "padding", "tail", "invalid_at", "break_at"),
    [
        # The break is logged just after the last whole line or item within INGEST_MAX_BYTES: every padding line
        # is whole, and the array's spaces follow its last item's comma.
        ("incoming/bomb.ndjson.gz", NDJSON_HEAD, b"\n", ndjson(AFTER), line_positions(NDJSON_HEAD)[1], MAX_BYTES),
        ("incoming/bomb.json.gz", ARRAY_HEAD, b" ", b"{}]", array_positions([BEFORE, INVALID])[1], len(ARRAY_HEAD)),
    ],
    ids=["ndjson-of-newlines", "array-of-spaces"],
)
def test_a_gzip_bomb_fails_its_file_once_and_keeps_the_records_before_it(
    stack: Stack,
    wiring: Wiring,
    max_bytes: int,
    key: str,
    head: bytes,
    padding: bytes,
    tail: bytes,
    invalid_at: int,
    break_at: int,
) -> None:
    bomb = gzip_bomb(head, padding, 64 * max_bytes, tail)
    assert len(bomb) < 128 * 1024
    wiring.upload(key, bomb)
    wiring.drain()

    def settled() -> tuple[dict[str, Any], set[tuple[str, str]], dict[tuple[str, int], str]]:
        file = file_entry(stack, key)
        assert file["status"]["S"] == "FAILED"
        assert "once decompressed (INGEST_MAX_BYTES)" in file["reason"]["S"]
        logged = refusals(stack)  # asserts no record is logged twice
        origin = file_origin(stack, key)
        assert set(logged) == {(origin, invalid_at), (origin, break_at)}
        assert "email" in logged[(origin, invalid_at)]["reason"]["S"]
        assert "once decompressed" in logged[(origin, break_at)]["reason"]["S"]
        assert stored(stack) == {version(BEFORE)}
        assert wiring.depth("PipelineEventsDLQ") == 0, "a bomb is settled, not retried"
        counts = {name: file[name] for name in ("recordsRead", "accepted", "rejected") if name in file}
        return counts, stored(stack), {identity: entry["reason"]["S"] for identity, entry in logged.items()}

    first = settled()
    # The same event again (a duplicate delivery, or a retry): the file is read again, to the same end.
    wiring.deliver(wiring.object_created_event(stack.physical["DataBucket"], key))
    wiring.drain()
    assert settled() == first
