"""Each way the pipeline can be interrupted, and where the records end up."""

from __future__ import annotations

import json

from dropshop.accounts.repository import AccountRepository
from dropshop.platform import aws
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.records import json_array, samples
from tests.support.faults import Faults
from tests.support.positions import array_positions
from tools.local.stack import Stack
from tools.local.wiring import Wiring

ACCOUNT = {"id": "acc-7", "name": "Ada", "email": "ada@example.com", "status": "active", "balanceCents": 100}


def send_api(stack: Stack, record: object) -> str:
    return stack.client("sqs").send_message(
        QueueUrl=stack.physical["WriterQueue"],
        MessageBody=json.dumps(record),
        MessageAttributes={"source": {"DataType": "String", "StringValue": "api"}},
    )["MessageId"]


def test_an_older_record_never_overwrites_a_newer_one(stack: Stack, wiring: Wiring) -> None:
    send_api(stack, ACCOUNT | {"updatedAt": "2026-11-24T12:00:00Z", "balanceCents": 900})
    wiring.drain()
    send_api(stack, ACCOUNT | {"updatedAt": "2026-11-24T11:00:00Z", "balanceCents": 100})
    wiring.drain()

    current = AccountRepository(aws.client("dynamodb"), stack.physical["AccountTable"]).current("acc-7")
    assert current is not None
    assert current.balance_cents == 900
    assert len(scan(stack, "AccountTable")) == 2  # the older state is history, not the current state


def test_a_redelivered_record_is_stored_once(stack: Stack, wiring: Wiring) -> None:
    record = ACCOUNT | {"updatedAt": "2026-11-24T12:00:00Z"}
    send_api(stack, record)
    send_api(stack, record)
    wiring.lost_deletes = 1.0  # every message comes back once more (and, at maxReceiveCount 1, via the DLQ)
    wiring.drain()

    assert len(scan(stack, "AccountTable")) == 1
    assert scan(stack, "LogTable") == []


def test_a_duplicate_s3_event_does_not_ingest_the_file_twice(stack: Stack, wiring: Wiring) -> None:
    wiring.upload("incoming/once.json", json_array(samples(50, invalid_share=0.0, accounts=50, seed=5)))
    event = wiring.object_created_event(stack.physical["DataBucket"], "incoming/once.json")
    results = dict(wiring.deliver(event))
    wiring.drain()

    assert results["TransformerFunction"]["ingestion"] == "already ingested"
    assert wiring.invocations["WriterFunction"] == 1
    (file,) = scan(stack, "FilesTable")
    assert file["status"]["S"] == "PROCESSED"


def test_a_file_run_cut_short_by_an_outage_is_retried_and_completes(stack: Stack, wiring: Wiring) -> None:
    Faults(outage=6).attach(aws.client("sqs"))  # the first run gives up after six throttled sends
    records = samples(200, invalid_share=0.1, accounts=200, seed=6)
    wiring.upload("incoming/retried.json", json_array(records))
    wiring.drain()

    (file,) = scan(stack, "FilesTable")
    assert file["status"]["S"] == "PROCESSED"
    assert wiring.invocations["TransformerFunction"] == 2
    assert len(scan(stack, "LogTable")) == sum(1 for s in records if not s.valid)
    assert {i["accountId"]["S"] for i in scan(stack, "AccountTable")} == {s.key[0] for s in records if s.valid}


def test_a_message_that_only_met_throttling_costs_no_record(stack: Stack, wiring: Wiring) -> None:
    """Lambda's throttled invocations count receives too: the message may reach the DLQ unprocessed."""
    send_api(stack, ACCOUNT | {"updatedAt": "2026-11-24T12:00:00Z"})
    sqs = stack.client("sqs")
    throttled = sqs.receive_message(QueueUrl=stack.physical["WriterQueue"])["Messages"][0]
    sqs.change_message_visibility(
        QueueUrl=stack.physical["WriterQueue"], ReceiptHandle=throttled["ReceiptHandle"], VisibilityTimeout=0
    )
    wiring.drain()

    assert wiring.invocations.get("WriterFunction", 0) == 0, "the message should have been redriven unprocessed"
    assert wiring.invocations["ErrorHandlerFunction"] == 1
    assert len(scan(stack, "AccountTable")) == 1
    assert scan(stack, "LogTable") == []


def test_records_that_cannot_be_written_are_logged_with_the_reason(stack: Stack, wiring: Wiring) -> None:
    Faults(outage=10**6, tables={stack.physical["AccountTable"]}).attach(aws.client("dynamodb"))
    records = [ACCOUNT | {"updatedAt": "2026-11-24T12:00:00Z"}, {"id": "broken"}]
    message_id = send_api(stack, records)
    wiring.drain()

    assert scan(stack, "AccountTable") == []
    entries = {int(e["position"]["N"]): e for e in scan(stack, "LogTable")}
    valid, broken = array_positions(records)
    assert set(entries) == {valid, broken}
    assert entries[valid]["reason"]["S"] == "not written after 2 deliveries"
    assert "name: Field required" in entries[broken]["reason"]["S"]
    assert all(e["messageId"]["S"] == message_id for e in entries.values())


def test_when_the_error_log_is_down_dead_letters_park_instead_of_vanishing(stack: Stack, wiring: Wiring) -> None:
    Faults(outage=10**6, tables={stack.physical["LogTable"]}).attach(aws.client("dynamodb"))
    send_api(stack, {"id": "broken"})
    wiring.drain()

    assert wiring.depth("WriterParkingQueue") == 1
    assert scan(stack, "LogTable") == []
