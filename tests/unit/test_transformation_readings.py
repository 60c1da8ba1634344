"""The Transformer's fast reading against the reference, file by file on moto (SQS and DynamoDB in-process): for any
lines, the records packed into WriterQueue messages (at which positions, in which bytes) and the refusals in
LogTable (at which positions, with which reason and excerpt) are those of the reference reading, the reader's
strict reading followed by the Account model (`streaming.parse_record`, `Account`), whichever of the one-pass
reading's outcomes (accepted, refused as sure, left to the model) each line took."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.accounts import compiled
from dropshop.accounts.model import Account
from dropshop.ingestion import service
from dropshop.ingestion.error_log import ErrorLog
from dropshop.ingestion.model import REASON_CHARS, Origin, excerpt, storable
from dropshop.ingestion.queue import QueueSender
from dropshop.platform import streaming
from tests.support.properties import budget
from tests.support.tables import create_declared_table
from tests.unit.test_account_compiled import PLAIN, dumps, plain_records, records

ORIGIN = Origin(kind="file", name="s3://data/incoming/accounts.ndjson", file_id="data/incoming/accounts.ndjson#e1")
LOG_TABLE = "LogTable"


class Stack:
    def __init__(self, session: boto3.session.Session) -> None:
        self.sqs = session.client("sqs")
        self.dynamodb = session.client("dynamodb")
        create_declared_table(self.dynamodb, "LogTable", LOG_TABLE)
        self.queue = self.sqs.create_queue(QueueName="writer")["QueueUrl"]

    def transform(self, data: bytes) -> tuple[dict[int, bytes], dict[int, tuple[str, str]]]:
        """The file through the Transformer's loop: records packed by position, refusals logged by position."""
        run = service.Transformation(ORIGIN, QueueSender(self.sqs, self.queue), ErrorLog(self.dynamodb, LOG_TABLE))
        run.ingest(io.BytesIO(data))
        packed: dict[int, bytes] = {}
        while received := self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages"):
            for message in received:
                for entry in json.loads(message["Body"])["records"]:
                    packed[entry["position"]] = msgspec.json.encode(entry["record"])
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        logged = {}
        for item in self.dynamodb.scan(TableName=LOG_TABLE, ConsistentRead=True)["Items"]:
            logged[int(item["position"]["N"])] = (item["reason"]["S"], item["record"]["S"])
            self.dynamodb.delete_item(TableName=LOG_TABLE, Key={"entryId": item["entryId"]})
        assert (run.read, run.accepted, run.rejected) == (len(packed) + len(logged), len(packed), len(logged))
        return packed, logged


@pytest.fixture
def stack(aws_session: boto3.session.Session) -> Iterator[Stack]:
    with mock_aws():
        yield Stack(aws_session)


def reference(data: bytes) -> tuple[dict[int, bytes], dict[int, tuple[str, str]]]:
    """The same file read by the reference reading: every record parsed strictly, then validated by the model."""
    packed: dict[int, bytes] = {}
    logged: dict[int, tuple[str, str]] = {}
    for position, record in streaming.records(io.BytesIO(data), parse=streaming.parse_record):
        verdict = service._account(record)  # the Account, or the reason the model (or the strict reading) gives
        if isinstance(verdict, Account):
            packed[position] = msgspec.json.encode(verdict.as_record())
        else:
            shown = record.excerpt if isinstance(record, streaming.UnreadableRecord) else record
            logged[position] = (storable(verdict, REASON_CHARS), excerpt(shown))
    return packed, logged


def refusable(record: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """A plain record whose id or e-mail address is any printable ASCII, padded or not: refused or accepted."""
    ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
    return st.tuples(ascii_text, ascii_text, st.booleans(), st.booleans()).map(
        lambda drawn: dumps(
            record | ({"id": drawn[0]} if drawn[2] else {}) | ({"email": drawn[1]} if drawn[3] else {}),
            ascii_only=True,
            spaced=True,
        )
    )


LINES = st.one_of(
    plain_records().map(lambda record: dumps(record, ascii_only=False, spaced=False)),
    plain_records().flatmap(refusable),
    records(),
    st.binary(max_size=40),
)


@budget(100)
@given(st.lists(LINES, min_size=1, max_size=12), st.sampled_from([b"\n", b"\r\n", b"\n\n"]))
@example([dumps(PLAIN | {"email": "not-an-email"}, ascii_only=True, spaced=True)], b"\n")
@example([dumps(PLAIN | {"id": "acc 1", "email": "x@y"}, ascii_only=True, spaced=True)], b"\n")
@example([dumps(PLAIN | {"email": " a@b.co"}, ascii_only=True, spaced=True)], b"\n")
@example([dumps(PLAIN | {"id": " acc-1 "}, ascii_only=True, spaced=True)], b"\n")
@example([dumps(PLAIN | {"email": "a\x1c@b.co"}, ascii_only=True, spaced=True)], b"\n")
def test_a_file_is_packed_and_refused_as_the_reference_reading_does(
    stack: Stack, lines: list[bytes], newline: bytes
) -> None:
    # One record per line, after a plain one: the file reads as NDJSON whatever its other lines hold.
    flat = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    lines = [dumps(PLAIN, ascii_only=True, spaced=False), *flat]
    data = newline.join(lines) + newline
    assert stack.transform(data) == reference(data)


def test_the_bench_files_refusals_are_read_as_sure_and_logged_in_the_models_words(stack: Stack) -> None:
    from tools.pipeline_bench import records as generated

    lines = [json.dumps(record).encode() for record in generated(400, invalid_share=0.2)]
    refused = [line for line in lines if isinstance(compiled.read(line), compiled.Refused)]
    assert len(refused) > 40
    data = b"\n".join(lines) + b"\n"
    packed, logged = stack.transform(data)
    assert (packed, logged) == reference(data)
    assert {reason for reason, _ in logged.values()} == {
        "email: String should match pattern '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'"
    }
