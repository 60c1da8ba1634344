"""Every record that enters — from a file or the API — ends in exactly one of AccountTable or LogTable,
through transient DynamoDB and SQS faults and redeliveries, with no duplicates."""

from __future__ import annotations

import json

import pytest

from dropshop.ingestion import messages
from dropshop.platform import aws
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.object_events import put
from tests.integration.pipeline.records import (
    BREAKAGES,
    FILE_ONLY_BREAKAGES,
    Sample,
    broken_line,
    json_array,
    ndjson,
    samples,
)
from tests.integration.pipeline.settled import API_ORIGIN, body_digest, send_like_the_http_api
from tests.support.faults import Faults
from tests.support.positions import array_positions, line_positions
from tools.local.stack import Stack
from tools.local.wiring import Wiring


def test_every_record_ends_in_exactly_one_table_through_faults_and_redeliveries(
    stack: Stack, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small messages: many per SendMessageBatch and many Writer batches, so every failure path gets traffic.
    monkeypatch.setattr(messages, "MESSAGE_LIMIT_BYTES", 16 * 1024)
    bucket = stack.physical["DataBucket"]
    array_file = samples(1500, invalid_share=0.1, accounts=600, seed=1, breakages=BREAKAGES + FILE_ONLY_BREAKAGES)
    ndjson_file = samples(1000, invalid_share=0.1, accounts=600, seed=2, breakages=BREAKAGES + FILE_ONLY_BREAKAGES)
    ndjson_file[10:10] = [broken_line('{"id": "acc-1", "name": '), broken_line("not json at all")]
    api_records = samples(150, invalid_share=0.15, accounts=600, seed=3)

    dynamodb_faults, sqs_faults = Faults(rate=0.2, throttle_rate=0.05), Faults(rate=0.2, throttle_rate=0.3)
    dynamodb_faults.attach(aws.client("dynamodb"))
    sqs_faults.attach(aws.client("sqs"))
    wiring.lost_deletes = 0.05  # a share of deletes "fail": those messages come back, or go to the DLQ

    wiring.deliver(put(stack, "incoming/accounts a.json", json_array(array_file)))  # a key with a space, as stored
    wiring.upload("incoming/accounts-b.ndjson", ndjson(ndjson_file))
    for sample in api_records:
        send_like_the_http_api(stack, json.dumps(sample.record))
    send_like_the_http_api(stack, "{this is not json")
    wiring.drain()

    # What should be where, by each record's identity at entry: (origin, position) or (API, request body). A
    # request sent twice is one request (a client's retry), logged once.
    entered: dict[tuple[str, str], Sample] = {}
    in_array = zip(array_positions([s.record for s in array_file]), array_file, strict=True)
    in_lines = zip(line_positions(ndjson(ndjson_file)), ndjson_file, strict=True)
    entered |= {(f"s3://{bucket}/incoming/accounts a.json", str(position)): s for position, s in in_array}
    entered |= {(f"s3://{bucket}/incoming/accounts-b.ndjson", str(position)): s for position, s in in_lines}
    entered |= {(API_ORIGIN, body_digest(json.dumps(s.record))): s for s in api_records}
    entered[(API_ORIGIN, body_digest("{this is not json"))] = Sample("{this is not json", valid=False)

    logged = [
        (item["origin"]["S"], item["bodyDigest"]["S"] if item["kind"]["S"] == "api" else item["position"]["N"])
        for item in scan(stack, "LogTable")
    ]
    stored = [(item["accountId"]["S"], item["version"]["S"]) for item in scan(stack, "AccountTable")]

    invalid = {identity for identity, s in entered.items() if not s.valid}
    assert sorted(logged) == sorted(invalid), "LogTable must hold each refused record once, and nothing else"
    assert len(stored) == len(set(stored)), "no account version may be stored twice"
    assert set(stored) == {s.key for s in entered.values() if s.valid}, "every valid record must be stored"
    assert sum(1 for s in entered.values() if s.valid) > 2000

    for queue in ("WriterQueue", "WriterDLQ", "WriterParkingQueue", "PipelineEventsDLQ"):
        assert wiring.depth(queue) == 0, f"{queue} still holds messages"
    # The run really went through the hard paths it claims to survive.
    assert dynamodb_faults.injected["unprocessed items"] > 100
    assert dynamodb_faults.injected["throttled BatchWriteItem calls"] > 0
    assert sqs_faults.injected["failed entries"] > 0
    assert sqs_faults.injected["throttled SendMessageBatch calls"] > 0
    assert wiring.invocations.get("ErrorHandlerFunction", 0) > 0


def test_files_carry_their_ingestion_result(stack: Stack, wiring: Wiring) -> None:
    records = samples(300, invalid_share=0.2, accounts=100, seed=4)
    wiring.upload("incoming/small.json", json_array(records))
    wiring.drain()

    (file,) = [f for f in scan(stack, "FilesTable") if f["key"]["S"] == "incoming/small.json"]
    rejected = sum(1 for s in records if not s.valid)
    assert file["status"]["S"] == "PROCESSED"
    assert int(file["recordsRead"]["N"]) == int(file["recordCount"]["N"]) == 300
    assert int(file["recordsRejected"]["N"]) == rejected
    assert int(file["recordsAccepted"]["N"]) == 300 - rejected
