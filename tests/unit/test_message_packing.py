"""WriterQueue messages: packed densely, always within SQS's limit, decoded back to the same records."""

from __future__ import annotations

import json

import pytest

from dropshop.ingestion import messages
from dropshop.ingestion.messages import MessagePacker, QueueMessage
from dropshop.ingestion.model import Origin, RecordRef
from dropshop.platform.streaming import UnreadableRecord

ORIGIN = Origin(kind="file", name="s3://bucket/incoming/a.json", file_id="f-1")


def pack(count: int) -> list[str]:
    packer = MessagePacker(ORIGIN)
    bodies: list[str] = []
    for position in range(count):
        bodies += packer.add(position, {"id": f"acc-{position}", "name": "x" * 150})
    return bodies + list(packer.flush())


def test_records_fill_messages_up_to_the_limit_and_none_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages, "MESSAGE_LIMIT_BYTES", 4096)
    bodies = pack(200)
    assert len(bodies) > 1
    assert all(len(body.encode()) <= 4096 for body in bodies)
    assert all(len(body.encode()) > 4096 - 250 for body in bodies[:-1]), "messages should be packed densely"
    decoded = [QueueMessage(f"m{i}", body, "file").decode() for i, body in enumerate(bodies)]
    assert {origin for origin, _ in decoded} == {ORIGIN}
    assert [position for _, entries in decoded for position, _ in entries] == list(range(200))


def test_a_thousand_records_travel_in_one_full_size_message() -> None:
    assert len(pack(1000)) == 1


def test_an_api_message_holds_one_record_or_an_array() -> None:
    body = json.dumps({"id": "a"})
    origin, single = QueueMessage("m-1", body, "api").decode()
    assert (origin.kind, origin.name, origin.message_id) == ("api", "POST /writer", "m-1")
    assert single == [(1, {"id": "a"})]
    _, several = QueueMessage("m-2", json.dumps([{"id": "a"}, {"id": "b"}]), "api").decode()
    assert several == [(0, {"id": "a"}), (1, {"id": "b"})]


def test_an_api_body_that_is_not_json_becomes_one_refusable_record() -> None:
    _, [(position, record)] = QueueMessage("m-3", "{oops", "api").decode()
    assert position == 1
    assert isinstance(record, UnreadableRecord)
    assert record.excerpt == "{oops"
    _, [(position, record)] = QueueMessage("m-4", "oops", "api").decode()
    assert position == 0
    assert isinstance(record, UnreadableRecord)
    assert record.reason.startswith("body: not JSON")


def test_a_retried_api_request_has_the_same_record_keys_whatever_its_message_id() -> None:
    body = json.dumps([{"id": "a"}, {"id": "b"}])
    first, _ = QueueMessage("m-5", body, "api").decode()
    retry, _ = QueueMessage("m-6", body, "api").decode()
    other, _ = QueueMessage("m-7", json.dumps([{"id": "a"}]), "api").decode()
    assert RecordRef(first, 0).key == RecordRef(retry, 0).key
    assert RecordRef(first, 0).key != RecordRef(first, 1).key
    assert RecordRef(first, 0).key != RecordRef(other, 0).key


def test_a_file_message_that_is_not_the_transformers_packing_is_read_like_a_body() -> None:
    origin, [(_, record)] = QueueMessage("m-8", "[[[", "file").decode()
    assert origin.kind == "api"
    assert isinstance(record, UnreadableRecord)
