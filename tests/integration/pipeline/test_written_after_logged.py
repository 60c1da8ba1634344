"""A record the ErrorHandler logged as not written, that arrives again once DynamoDB has recovered, ends in
AccountTable alone: its "not written" entry is withdrawn (docs/pipeline.md, "Exactly one table").

It arrives again because AWS delivers at least once: SQS may deliver a message again, and a delete may be lost
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html);
an invocation that times out after its side effects leaves its batch to come back
(https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html); a client retries a request, and a Transformer run that
takes a file over sends its records again. The throttling is injected on moto's real calls (tests/support/faults.py).
"""

from __future__ import annotations

import json
from typing import Any

from dropshop.ingestion import service as pipeline
from dropshop.ingestion.messages import QueueMessage
from dropshop.platform import aws
from dropshop.platform.settings import settings
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.settled import send_like_the_http_api, stored, version
from tests.integration.pipeline.test_claims import calls_to_dynamodb
from tests.support.faults import Faults
from tests.support.positions import array_positions
from tests.template.test_least_privilege import effective
from tools.local.stack import Stack
from tools.local.wiring import QueueMapping, Wiring

RECORD = {
    "id": "acc-7",
    "name": "Ada",
    "email": "ada@example.com",
    "status": "active",
    "balanceCents": 100,
    "updatedAt": "2026-11-24T12:00:00Z",
}


def mapping(wiring: Wiring, function: str) -> QueueMapping:
    return next(m for m in wiring.queue_mappings() if m.function == function)


def throttle_accounts(stack: Stack) -> Faults:
    """AccountTable's partition throttled until the test says it has recovered (`outage = 0`)."""
    faults = Faults(outage=10**6, tables={stack.physical["AccountTable"]})
    faults.attach(aws.client("dynamodb"))
    return faults


def logged_as_not_written(stack: Stack) -> list[dict[str, Any]]:
    return [e for e in scan(stack, "LogTable") if e["reason"]["S"].startswith("not written after")]


def dead_letter_logged(stack: Stack, wiring: Wiring, faults: Faults) -> None:
    """The Writer fails the message, the ErrorHandler logs its record, and the delete of the dead letter is lost."""
    while wiring.poll(mapping(wiring, "WriterFunction")):
        pass
    wiring.lost_deletes = 1.0
    assert wiring.poll(mapping(wiring, "ErrorHandlerFunction")) == 1
    wiring.lost_deletes = 0.0
    assert len(logged_as_not_written(stack)) == 1, "the ErrorHandler should have logged the record"
    assert scan(stack, "AccountTable") == []
    faults.outage = 0  # DynamoDB has recovered


def test_a_dead_letter_redelivered_after_its_record_was_logged_ends_in_accounts_alone(
    stack: Stack, wiring: Wiring
) -> None:
    faults = throttle_accounts(stack)
    send_like_the_http_api(stack, json.dumps(RECORD))
    dead_letter_logged(stack, wiring, faults)
    called = calls_to_dynamodb()

    wiring.drain()  # the dead letter comes back to the ErrorHandler

    assert wiring.invocations["ErrorHandlerFunction"] == 2
    assert stored(stack) == {version(RECORD)}
    assert scan(stack, "LogTable") == [], "the record is written: its 'not written' entry must go"
    assert called <= {action for action, _ in effective("ErrorHandlerFunction")}, "moto checks no IAM"


def test_the_same_record_sent_again_through_the_writer_after_it_was_logged_ends_in_accounts_alone(
    stack: Stack, wiring: Wiring
) -> None:
    """A client's retry (or a Transformer's takeover run) reaches the Writer after the ErrorHandler logged the
    record, and before the dead letter is seen again."""
    faults = throttle_accounts(stack)
    body = json.dumps([RECORD, {"id": "broken"}])
    send_like_the_http_api(stack, body)
    while wiring.poll(mapping(wiring, "WriterFunction")):
        pass
    assert wiring.poll(mapping(wiring, "ErrorHandlerFunction")) == 1
    assert len(logged_as_not_written(stack)) == 1
    faults.outage = 0
    called = calls_to_dynamodb()

    send_like_the_http_api(stack, body)
    wiring.drain()

    assert wiring.invocations["WriterFunction"] >= 2
    assert stored(stack) == {version(RECORD)}
    (refused,) = scan(stack, "LogTable")
    assert int(refused["position"]["N"]) == array_positions([RECORD, {"id": "broken"}])[1], (
        "the invalid record stays refused, once"
    )
    assert called <= {action for action, _ in effective("WriterFunction")}, "moto checks no IAM"


def test_a_delivery_writing_the_record_while_the_error_handler_logs_it_leaves_it_in_accounts_alone(
    stack: Stack, wiring: Wiring
) -> None:
    """The race: the ErrorHandler could not write the record and found it nowhere in AccountTable; before its
    entry lands, another delivery (a client's retry) writes the record and reads LogTable, which has no entry
    yet. The ErrorHandler's check after logging sees that write and withdraws its entry."""
    faults = throttle_accounts(stack)
    body = json.dumps(RECORD)
    send_like_the_http_api(stack, body)
    while wiring.poll(mapping(wiring, "WriterFunction")):
        pass
    raced: list[str] = []

    def retry_arrives(params: dict[str, Any], **_: Any) -> None:
        if stack.physical["LogTable"] in params["RequestItems"] and not raced:
            raced.append("the retry wrote the record before the entry landed")
            faults.outage = 0
            pipeline.write_message(QueueMessage(message_id="a-client-retry", body=body, source="api"))
            assert stored(stack) == {version(RECORD)}
            assert scan(stack, "LogTable") == [], "the retry found no entry to withdraw"

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.BatchWriteItem", retry_arrives)
    wiring.drain()

    assert raced, "the ErrorHandler should have logged the record"
    assert stored(stack) == {version(RECORD)}
    assert scan(stack, "LogTable") == []


# ------------------------------------------------------------------ a file's records: the file's note


def log_table_reads() -> list[int]:
    """How many keys each BatchGetItem on LogTable asks for, from now on."""
    reads: list[int] = []
    table = settings().log_table

    def count(params: dict[str, Any], **_: Any) -> None:
        if table in params["RequestItems"]:
            reads.append(len(params["RequestItems"][table]["Keys"]))

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.BatchGetItem", count)
    return reads


def transformer_messages(stack: Stack) -> list[str]:
    """The bodies of the WriterQueue messages the Transformer sends from now on."""
    bodies: list[str] = []

    def keep(params: dict[str, Any], **_: Any) -> None:
        if params["QueueUrl"] == stack.physical["WriterQueue"]:
            bodies.extend(entry["MessageBody"] for entry in params["Entries"])

    aws.client("sqs").meta.events.register("provide-client-params.sqs.SendMessageBatch", keep)
    return bodies


def upload_records(wiring: Wiring, key: str, count: int) -> list[dict[str, Any]]:
    records = [RECORD | {"id": f"acc-{i}"} for i in range(count)]
    wiring.upload(key, "".join(json.dumps(r) + "\n" for r in records).encode())
    return records


def test_a_files_records_written_read_no_log_entries_while_none_of_its_valid_records_was_logged(
    stack: Stack, wiring: Wiring
) -> None:
    """The Writer's requests: a file whose valid records were never logged has no entry for a written record to
    withdraw, so the Writer reads the file's note (one GetItem per message) instead of one read unit per record."""
    reads = log_table_reads()
    records = upload_records(wiring, "incoming/clean.ndjson", 60)
    called = calls_to_dynamodb()
    wiring.drain()

    assert stored(stack) == {version(r) for r in records}
    assert scan(stack, "LogTable") == []
    assert reads == [], "no LogTable entry can exist for these records: none should be read"
    assert called <= {action for action, _ in effective("WriterFunction")}, "moto checks no IAM"


def test_a_files_record_logged_as_not_written_and_sent_again_by_a_takeover_run_ends_in_accounts_alone(
    stack: Stack, wiring: Wiring
) -> None:
    """The ErrorHandler notes the file before logging its record as not written; the same record sent again (a
    Transformer run taking the file over sends its records in new messages) is written once DynamoDB has recovered,
    and the note makes that Writer look for the entry and withdraw it."""
    faults = throttle_accounts(stack)
    sent = transformer_messages(stack)
    reads = log_table_reads()
    records = upload_records(wiring, "incoming/throttled.ndjson", 3)
    while wiring.poll(mapping(wiring, "WriterFunction")):
        pass
    called = calls_to_dynamodb()
    assert wiring.poll(mapping(wiring, "ErrorHandlerFunction")) == 1
    assert len(logged_as_not_written(stack)) == 3
    assert called <= {action for action, _ in effective("ErrorHandlerFunction")}, "moto checks no IAM"
    faults.outage = 0
    (body,) = sent
    reads.clear()

    pipeline.write_message(QueueMessage(message_id="the-takeover-runs-message", body=body, source="file"))

    assert stored(stack) == {version(r) for r in records}
    assert scan(stack, "LogTable") == [], "the records are written: their 'not written' entries must go"
    assert reads == [3], "the file is noted: the Writer reads its records' entries"


def test_a_files_record_logged_before_the_note_existed_is_still_withdrawn_when_written(
    stack: Stack, wiring: Wiring
) -> None:
    """A file registered and logged by the release before the note has no `validRecordsLogged` at all: it counts as
    noted, so its entries are still read and withdrawn, with no backfill before the deploy."""
    faults = throttle_accounts(stack)
    sent = transformer_messages(stack)
    records = upload_records(wiring, "incoming/before-the-note.ndjson", 2)
    while wiring.poll(mapping(wiring, "WriterFunction")):
        pass
    assert wiring.poll(mapping(wiring, "ErrorHandlerFunction")) == 1
    assert len(logged_as_not_written(stack)) == 2
    (file,) = scan(stack, "FilesTable")
    aws.client("dynamodb").update_item(  # as the release before the note left it
        TableName=stack.physical["FilesTable"],
        Key={"fileId": file["fileId"]},
        UpdateExpression="REMOVE validRecordsLogged",
    )
    faults.outage = 0
    (body,) = sent

    pipeline.write_message(QueueMessage(message_id="the-takeover-runs-message", body=body, source="file"))

    assert stored(stack) == {version(r) for r in records}
    assert scan(stack, "LogTable") == [], "the file may hold entries from before the note: they must be read"
