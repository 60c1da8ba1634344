"""QueueSender against moto's SQS (in-process): SendMessageBatch calls of at most 10 entries and 256 KiB, each
message sent once, failed entries and throttled calls resent with backoff, and a run that cannot send fails.
SendMessageBatch's limits and its per-entry failures: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
(moto never fails an entry: tests.support.faults does, as SQS may)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.ingestion.queue import BATCH_ENTRIES, BATCH_LIMIT_BYTES, QueueSender, QueueUnavailable
from dropshop.platform.dynamodb import MAX_ATTEMPTS
from tests.support.faults import Faults
from tests.support.logs import LogLines
from tests.support.properties import budget

ATTRIBUTE_ALLOWANCE = 64  # what the sender counts for each message's `source` attribute


@pytest.fixture
def sqs(aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        yield aws_session.client("sqs")


def new_queue(sqs: Any, name: str = "ChunkQueue") -> str:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url


def received(sqs: Any, url: str) -> list[tuple[str, str]]:
    """Every message's body and `source` attribute."""
    found: list[tuple[str, str]] = []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
    ).get("Messages"):
        found += [(m["Body"], m["MessageAttributes"]["source"]["StringValue"]) for m in messages]
    return found


def batches(sqs: Any) -> list[list[str]]:
    """The bodies of each SendMessageBatch call, as the client sends them."""
    calls: list[list[str]] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: calls.append([entry["MessageBody"] for entry in params["Entries"]]),
    )
    return calls


@budget(10)
@given(count=st.integers(0, 35))
def test_every_body_is_sent_once_in_batches_of_ten(sqs: Any, count: int) -> None:
    url = new_queue(sqs, f"q-{count}")
    calls = batches(sqs)
    sender = QueueSender(sqs, url)
    bodies = [f'{{"n":{n}}}' for n in range(count)]
    sender.send(bodies)
    sender.flush()
    assert sorted(received(sqs, url)) == sorted((body, "file") for body in bodies)
    assert sender.messages_sent == count
    assert [len(call) for call in calls] == [BATCH_ENTRIES] * (count // 10) + ([count % 10] if count % 10 else [])
    sqs.meta.events.unregister("provide-client-params.sqs.SendMessageBatch")


def test_a_batch_never_passes_256_kib(sqs: Any) -> None:
    url = new_queue(sqs)
    calls = batches(sqs)
    half = "x" * (BATCH_LIMIT_BYTES // 2 - ATTRIBUTE_ALLOWANCE)  # two of them fill a batch exactly
    sender = QueueSender(sqs, url)
    sender.send([half, half, half + "y", half])
    sender.flush()
    # Two halves fill a batch exactly; a byte more than a half and a half go one byte over together.
    assert calls == [[half, half], [half + "y"], [half]]
    assert sender.messages_sent == 4
    assert len(received(sqs, url)) == 4
    calls.clear()
    sender.send([half] * 4)  # after a full batch goes, the next one starts empty: two halves fill it again
    sender.flush()
    assert calls == [[half, half], [half, half]]


def test_a_batch_counts_all_of_its_bodies(sqs: Any) -> None:
    url = new_queue(sqs)
    calls = batches(sqs)
    third = "x" * (100 * 1024)  # two fit in 256 KiB, three do not
    sender = QueueSender(sqs, url)
    sender.send([third, third, third])
    sender.flush()
    assert calls == [[third, third], [third]]


def test_a_flush_with_nothing_pending_sends_nothing(sqs: Any) -> None:
    url = new_queue(sqs)
    calls = batches(sqs)
    QueueSender(sqs, url).flush()
    assert calls == []


def test_failed_entries_and_throttled_calls_are_resent_after_a_wait(sqs: Any, logs: LogLines) -> None:
    url = new_queue(sqs)
    faults = Faults(rate=0.5, outage=1)  # the first call throttled, then half of each call's entries failed
    faults.attach(sqs)
    waits: list[float] = []
    sender = QueueSender(sqs, url, sleep=waits.append)
    bodies = [str(n) for n in range(10)]
    sender.send(bodies)
    sender.flush()
    assert sorted(body for body, _ in received(sqs, url)) == sorted(bodies)
    assert sender.messages_sent == 10
    assert faults.injected["throttled SendMessageBatch calls"] == 1
    assert faults.injected["failed entries"] > 0
    assert 2 <= len(waits) <= MAX_ATTEMPTS - 1  # a wait before each resend, none before the first call
    assert all(wait >= 0 for wait in waits)
    (throttled,) = logs.with_message("send batch failed")
    assert (throttled["level"], throttled["attempt"]) == ("WARNING", 0)
    assert "ThrottlingException" in throttled["error"]


def test_messages_that_cannot_be_sent_fail_the_run(sqs: Any) -> None:
    url = new_queue(sqs, "WriterQueue")
    Faults(outage=MAX_ATTEMPTS).attach(sqs)  # throttled beyond every attempt
    waits: list[float] = []
    sender = QueueSender(sqs, url, sleep=waits.append)
    sender.send(["a", "b", "c"])
    with pytest.raises(QueueUnavailable, match=r"^3 messages could not be sent to WriterQueue$"):
        sender.flush()
    assert len(waits) == MAX_ATTEMPTS - 1
    assert sender.messages_sent == 0
    assert received(sqs, url) == []


def test_messages_sent_by_the_last_attempt_do_not_fail_the_run(sqs: Any) -> None:
    url = new_queue(sqs)
    Faults(outage=MAX_ATTEMPTS - 1).attach(sqs)  # throttled until the last attempt, which goes through
    waits: list[float] = []
    sender = QueueSender(sqs, url, sleep=waits.append)
    sender.send(["a", "b"])
    sender.flush()
    assert len(waits) == MAX_ATTEMPTS - 1
    assert sender.messages_sent == 2
    assert sorted(body for body, _ in received(sqs, url)) == ["a", "b"]
