"""WriterQueue messages: packed densely, always within SQS's limit, decoded back to the same records."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.ingestion import messages
from dropshop.ingestion.messages import MessagePacker, QueueMessage
from dropshop.ingestion.model import Origin, RecordRef
from dropshop.platform import streaming
from dropshop.platform.batch import SQSRecord
from dropshop.platform.streaming import UnreadableRecord
from tests.support.events import load_event
from tests.support.properties import budget

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


def test_an_api_message_holds_one_record_or_an_array_or_ndjson_each_at_its_byte_offset() -> None:
    body = json.dumps({"id": "a"})
    origin, single = QueueMessage("m-1", body, "api").decode()
    assert (origin.kind, origin.name, origin.message_id) == ("api", "POST /writer", "m-1")
    assert single == [(0, {"id": "a"})]
    _, several = QueueMessage("m-2", json.dumps([{"id": "a"}, {"id": "b"}]), "api").decode()
    assert several == [(1, {"id": "a"}), (14, {"id": "b"})]
    _, lines = QueueMessage("m-3", '{"id": "a"}\r\n\n  {"id": "é"}\n', "api").decode()
    assert lines == [(0, {"id": "a"}), (16, {"id": "é"})], "as a file's NDJSON: bytes of UTF-8, CRLF and blanks"


def test_an_api_body_that_is_not_json_becomes_one_refusable_record() -> None:
    _, [(position, record)] = QueueMessage("m-3", "{oops", "api").decode()
    assert position == 0
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


def pack_records(records: list[dict[str, object]], limit: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(messages, "MESSAGE_LIMIT_BYTES", limit)
    packer = MessagePacker(ORIGIN)
    bodies: list[str] = []
    for position, record in enumerate(records):
        bodies += packer.add(position, record)
    return bodies + list(packer.flush())


def entry_bytes(position: int, record: object) -> int:
    """What one record adds to a message, its comma aside: the entry as the packer writes it (UTF-8, unescaped)."""
    return len(json.dumps({"position": position, "record": record}, separators=(",", ":"), ensure_ascii=False).encode())


@budget(200)
@given(names=st.lists(st.text(max_size=300), min_size=1, max_size=40), slack=st.integers(min_value=0, max_value=600))
@example(names=["a", "b"], slack=0)
def test_every_message_is_within_the_limit_and_as_full_as_it_can_be(
    names: list[str], slack: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each message holds as many records as fit: within the limit, and the next record would not have fitted."""
    records: list[dict[str, object]] = [{"name": name} for name in names]
    alone = max(len(body.encode()) for record in records for body in pack_records([record], 10**9, monkeypatch))
    limit = alone + slack
    bodies = pack_records(records, limit, monkeypatch)
    assert all(len(body.encode()) <= limit for body in bodies)
    decoded = [QueueMessage("m", body, "file").decode()[1] for body in bodies]
    assert [record for entries in decoded for _, record in entries] == records
    for body, following in zip(bodies, decoded[1:], strict=False):
        position, record = following[0]
        assert len(body.encode()) + 1 + entry_bytes(position, record) > limit, "the next record would have fitted"


def test_two_records_that_fill_a_message_to_the_byte_travel_together(monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[dict[str, object]] = [{"id": "a"}, {"id": "b"}]
    [together] = pack_records(records, 10**9, monkeypatch)
    assert pack_records(records, len(together.encode()), monkeypatch) == [together]
    assert len(pack_records(records, len(together.encode()) - 1, monkeypatch)) == 2


def test_a_message_fills_up_to_what_sqs_takes_less_the_source_attributes_margin() -> None:
    """SQS takes 256 KiB a message, attributes included ("Amazon SQS message quotas"): 255 KiB of records."""
    packer = MessagePacker(ORIGIN)
    bodies: list[str] = []
    for position in range(4000):
        bodies += packer.add(position, {"id": f"acc-{position}", "name": "x" * 150})
    sizes = [len(body.encode()) for body in bodies]
    assert sizes, "4000 records of ~190 bytes fill more than one message"
    assert all(255 * 1024 - 200 < size <= 255 * 1024 for size in sizes)


def sqs_record(**changes: Any) -> SQSRecord:
    """The writer's sample event's first record (events/writer/batch.json), as Lambda delivers it, changed."""
    record = load_event("writer/batch")["Records"][0]
    return SQSRecord({**record, **changes})


def test_a_delivered_message_keeps_its_id_body_source_and_receive_count() -> None:
    record = sqs_record(attributes={"ApproximateReceiveCount": "3"})
    message = QueueMessage.from_sqs(record)
    assert message == QueueMessage(record.message_id, record.body, "file", 3)
    assert message.decode()[0].kind == "file"


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"source": {"stringValue": None, "dataType": "String"}},
        {"source": {"stringValue": "", "dataType": "String"}},
    ],
    ids=["no source attribute", "no value", "empty"],
)
def test_a_message_without_a_source_is_an_api_request(attributes: dict[str, Any]) -> None:
    message = QueueMessage.from_sqs(sqs_record(messageAttributes=attributes))
    assert message.source == "api"
    origin, _ = message.decode()
    assert (origin.kind, origin.name) == ("api", "POST /writer")


@pytest.mark.parametrize(
    "payload",
    [
        {"records": [{"position": 0, "record": {"id": "a"}}]},
        {"origin": {"kind": "file", "name": "s3://b/k"}, "records": []},
        {"origin": {"kind": "file", "fileId": "f"}, "records": []},
        {"origin": {"name": "s3://b/k", "fileId": "f"}, "records": [{"record": {"id": "a"}}]},
        {"origin": {"name": "s3://b/k", "fileId": "f"}, "records": [{"position": 0}]},
        {"origin": {"name": "s3://b/k", "fileId": "f"}},
        {"origin": "s3://b/k", "records": []},
        {"origin": {"name": "s3://b/k", "fileId": "f"}, "records": 7},
    ],
)
def test_a_file_message_missing_part_of_the_packing_is_read_as_a_body_not_raised(payload: dict[str, Any]) -> None:
    origin, records = QueueMessage("m-9", json.dumps(payload), "file").decode()
    assert origin.kind == "api"
    assert records == [(0, payload)]


def test_a_body_that_breaks_off_is_refused_with_its_first_bytes_as_the_excerpt() -> None:
    body = "[" + json.dumps({"name": "é" * 400}, ensure_ascii=False) + ", {"
    _, records = QueueMessage("m-10", body, "api").decode()
    position, record = records[-1]
    assert isinstance(record, UnreadableRecord)
    assert record.reason.startswith("body: ")
    raw = body.encode()
    # The first EXCERPT_BYTES bytes, a character cut in two shown as U+FFFD rather than failing the message.
    assert record.excerpt == raw[: streaming.EXCERPT_BYTES].decode("utf-8", "replace")
    assert record.excerpt.endswith("\ufffd")
    assert position == len(raw) - 1, "the broken record's first byte"


def test_a_body_with_an_unpaired_surrogate_is_refused_not_raised() -> None:
    """A str body can hold a lone surrogate (json.loads makes one of "\\ud800"); its bytes are no UTF-8."""
    body = '{"id": "a", "name": "\ud800"}'
    origin, [(position, record)] = QueueMessage("m-11", body, "api").decode()
    assert isinstance(record, UnreadableRecord)
    assert position == 0
    assert origin.body_digest == hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def test_an_api_request_is_known_by_the_sha256_of_its_body() -> None:
    body = json.dumps({"id": "a"})
    origin, _ = QueueMessage("m-12", body, "api").decode()
    assert origin.body_digest == hashlib.sha256(body.encode()).hexdigest()
    assert origin.message_id == "m-12"
    assert origin.file_id is None


def test_a_message_is_compact_json_of_its_origin_and_records() -> None:
    """No byte of the 256 KiB goes to spaces: the message is written as compactly as JSON allows."""
    records = [{"id": "a", "name": "Zoë"}, {"id": "b"}]
    packer = MessagePacker(ORIGIN)
    assert packer.add(0, records[0]) + packer.add(1, records[1]) == ()
    [body] = packer.flush()
    expected = {
        "origin": ORIGIN.as_attributes(),
        "records": [{"position": n, "record": r} for n, r in enumerate(records)],
    }
    assert body == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
