"""The error log (LogTable) against moto's DynamoDB (in-process): one entry per refused record, with where it came
from; entries withdrawn once their record is written after all; what DynamoDB does not take is never acknowledged.
moto never returns UnprocessedItems, so tests.support.faults makes it, as BatchWriteItem does under throttling
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.ingestion.error_log import ErrorLog, ErrorLogUnavailable
from dropshop.ingestion.model import Origin, RecordRef, Rejection
from tests.support.dynamodb_semantics import StaleReads, enforce_batch_write_limit
from tests.support.faults import Faults
from tests.support.properties import budget
from tests.support.tables import create_declared_table

TABLE = "LogTable"
FILE = Origin(kind="file", name="s3://data/incoming/a.json", file_id="data/incoming/a.json#etag-1")
API = Origin(kind="api", name="POST /writer", message_id="m-1", body_digest="d" * 64)


@pytest.fixture
def dynamodb(aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        create_declared_table(client, "LogTable", TABLE)
        yield client


def entries(dynamodb: Any) -> dict[str, dict[str, Any]]:
    return {item["entryId"]["S"]: item for item in dynamodb.scan(TableName=TABLE)["Items"]}


def rejection(origin: Origin, position: int, reason: str = "balanceCents: must be an integer") -> Rejection:
    shown = {"id": f"acc-{position}"}
    return Rejection.of(
        RecordRef(origin, position), reason, shown, stage="writer", received_at="2026-12-07T08:00:00+00:00"
    )


def test_each_rejection_is_logged_with_where_it_came_from(dynamodb: Any) -> None:
    before = datetime.now(UTC)
    from_file, from_api = rejection(FILE, 7), rejection(API, 0, "name: must not be empty")
    ErrorLog(dynamodb, TABLE).record([from_file, from_api])
    logged = entries(dynamodb)

    file_entry = logged[from_file.ref.key]
    logged_at = datetime.fromisoformat(file_entry.pop("loggedAt")["S"])
    assert before <= logged_at <= datetime.now(UTC)
    assert file_entry == {
        "entryId": {"S": from_file.ref.key},
        "origin": {"S": "s3://data/incoming/a.json"},
        "kind": {"S": "file"},
        "position": {"N": "7"},
        "reason": {"S": "balanceCents: must be an integer"},
        "record": {"S": '{"id": "acc-7"}'},
        "stage": {"S": "writer"},
        "receivedAt": {"S": from_file.received_at},
        "fileId": {"S": "data/incoming/a.json#etag-1"},
    }
    api_entry = logged[from_api.ref.key]
    assert (api_entry["kind"], api_entry["origin"], api_entry["reason"]) == (
        {"S": "api"},
        {"S": "POST /writer"},
        {"S": "name: must not be empty"},
    )
    assert (api_entry["messageId"], api_entry["bodyDigest"]) == ({"S": "m-1"}, {"S": "d" * 64})
    assert "fileId" not in api_entry
    assert {"messageId", "bodyDigest"}.isdisjoint(file_entry)


@budget(10)
@given(positions=st.lists(st.integers(0, 10**6), min_size=1, max_size=60))
def test_a_redelivered_rejection_is_logged_once(dynamodb: Any, positions: list[int]) -> None:
    origin = Origin(kind="file", name="s3://data/incoming/b.json", file_id=f"data/incoming/b.json#{uuid.uuid4()}")
    log = ErrorLog(dynamodb, TABLE)
    log.record([rejection(origin, p) for p in positions])
    log.record([rejection(origin, p) for p in positions])  # the message delivered again
    logged = [e for e in entries(dynamodb).values() if e["fileId"]["S"] == origin.file_id]
    assert sorted(int(e["position"]["N"]) for e in logged) == sorted(set(positions))


def test_nothing_to_log_writes_nothing(dynamodb: Any) -> None:
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.BatchWriteItem", lambda **_: calls.append("write"))
    ErrorLog(dynamodb, TABLE).record([])
    assert calls == []


def test_rejections_dynamodb_does_not_take_are_never_acknowledged(dynamodb: Any) -> None:
    # A partition throttled for the whole run: its item comes back unprocessed after every retry.
    held = rejection(FILE, 1)
    Faults(unwritable=lambda item: item["entryId"]["S"] == held.ref.key).attach(dynamodb)
    with pytest.raises(ErrorLogUnavailable, match=r"^1 rejections could not be logged \[\]$"):
        ErrorLog(dynamodb, TABLE).record([rejection(FILE, 0), held])
    assert list(entries(dynamodb)) == [rejection(FILE, 0).ref.key]


def test_a_rejection_dynamodb_refuses_is_never_acknowledged(dynamodb: Any) -> None:
    # Beyond DynamoDB's 400 KB item: refused for good (ValidationException), with DynamoDB's reason.
    huge = Rejection(RecordRef(FILE, 3), "too big", "x" * 500_000, "writer", "2026-12-07T08:00:00+00:00")
    with pytest.raises(ErrorLogUnavailable, match=r"^1 rejections could not be logged \['ValidationException: "):
        ErrorLog(dynamodb, TABLE).record([rejection(FILE, 0), huge])


def test_entries_of_records_written_after_all_are_withdrawn(dynamodb: Any) -> None:
    enforce_batch_write_limit(dynamodb)
    log = ErrorLog(dynamodb, TABLE)
    logged = [rejection(FILE, p) for p in range(30)]  # more than one BatchWriteItem's 25 deletes
    log.record([*logged, rejection(API, 0)])
    written = [r.ref for r in logged] + [logged[0].ref, RecordRef(FILE, 999)]  # one twice, one never logged
    reads = StaleReads(dynamodb)  # a consistent read, or the entry written a moment ago may not be seen
    assert log.withdraw(written) == 30
    assert reads.calls >= 2
    assert list(entries(dynamodb)) == [rejection(API, 0).ref.key]
    assert log.withdraw(written) == 0


def test_an_entry_not_withdrawn_yet_keeps_the_message_unacknowledged(dynamodb: Any) -> None:
    log = ErrorLog(dynamodb, TABLE)
    log.record([rejection(FILE, p) for p in range(3)])
    Faults(rate=1.0).attach(dynamodb)  # every delete but the call's first comes back unprocessed
    with pytest.raises(ErrorLogUnavailable, match=r"^entries of written records could not be withdrawn yet$"):
        log.withdraw([RecordRef(FILE, p) for p in range(3)])
    assert len(entries(dynamodb)) == 2
