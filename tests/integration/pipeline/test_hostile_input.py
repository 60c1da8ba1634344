"""A regression corpus: each hostile input seen in the wild, through the template's wiring on moto.

Each poison record sits between valid neighbours, in an NDJSON file and in a POST /writer array: it ends
as one LogTable entry naming the field, and its neighbours, file and message go on."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dropshop.platform import aws, settings
from tests.integration.pipeline.settled import (
    body_digest,
    current,
    file_entry,
    file_origin,
    ndjson,
    refusals,
    send_like_the_http_api,
    stored,
    version,
)
from tests.support.positions import array_positions
from tools.local.stack import Stack
from tools.local.wiring import Wiring

VALID: dict[str, Any] = {
    "id": "acc-1",
    "name": "Ada",
    "email": "ada@example.com",
    "status": "active",
    "balanceCents": 100,
    "updatedAt": "2026-11-24T12:00:00Z",
}
BEFORE, AFTER = VALID | {"id": "acc-before"}, VALID | {"id": "acc-after"}
DEEP = b'{"a":' * 20_000 + b"1" + b"}" * 20_000


def raw(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


# (case, the poison record's bytes, what the refusal's reason must name)
POISON = [
    ("end of the calendar with an offset", raw(VALID | {"updatedAt": "9999-12-31T23:59:59-01:00"}), "updatedAt"),
    ("start of the calendar with an offset", raw(VALID | {"updatedAt": "0001-01-01T00:00:00+01:00"}), "updatedAt"),
    ("an integer of 5,000 digits", raw(VALID)[:-1] + b', "balanceCents": 1' + b"0" * 5000 + b"}", "balanceCents"),
    ("an integer beyond 64 bits", raw(VALID | {"balanceCents": 2**70}), "balanceCents"),
    ("nested 20,000 levels deep", DEEP, "nested deeper than 32 levels"),
    ("an unpaired surrogate", raw(VALID | {"name": "Ada \ud800"}), "name"),
    ("epoch seconds as updatedAt", raw(VALID | {"updatedAt": 1764000000}), "updatedAt"),
    ("a float balance", raw(VALID | {"balanceCents": 100.0}), "balanceCents"),
    ("a boolean balance", raw(VALID | {"balanceCents": True}), "balanceCents"),
    ("a numeric string balance", raw(VALID | {"balanceCents": "100"}), "balanceCents"),
    # Issue 24: as strict as the REST API, whichever door (not stored last-wins, not stored with a NUL).
    ("a duplicate key", raw(VALID | {"balanceCents": 1})[:-1] + b', "balanceCents": -999}', "balanceCents"),
    ("a duplicate key in a nested object", raw(VALID)[:-1] + b', "extra": {"a": 1, "a": 2}}', "a: key 'a'"),
    ("NaN in a field the record does not use", raw(VALID)[:-1] + b', "extra": NaN}', "NaN"),
    ("a NUL in the name", raw(VALID | {"name": "Ada\x00Lovelace"}), "name"),
    ("a bidi override in the name", raw(VALID | {"name": "Ada \u202egnp.exe"}), "name"),
    ("an escape character in the email", raw(VALID | {"email": "ada\x1b@example.com"}), "email"),
]


def assert_neighbours_stored_and_poison_logged(
    stack: Stack, wiring: Wiring, anchor: str, position: int, field: str
) -> None:
    assert stored(stack) == {version(BEFORE), version(AFTER)}
    (entry,) = refusals(stack).values()
    assert (entry["kind"]["S"] == "api" and entry["bodyDigest"]["S"] == anchor) or entry["origin"]["S"] == anchor
    assert int(entry["position"]["N"]) == position
    assert field in entry["reason"]["S"]
    assert len(entry["record"]["S"]) <= 2001
    for queue in ("WriterQueue", "WriterDLQ", "WriterParkingQueue", "PipelineEventsDLQ"):
        assert wiring.depth(queue) == 0, queue


@pytest.mark.parametrize(("case", "poison", "field"), POISON, ids=[case for case, _, _ in POISON])
def test_a_poison_line_costs_that_line_only(stack: Stack, wiring: Wiring, case: str, poison: bytes, field: str) -> None:
    wiring.upload("incoming/poison.ndjson", ndjson(BEFORE, poison, AFTER))
    wiring.drain()

    at = len(ndjson(BEFORE))  # the poison's first byte: the start of the second line
    assert_neighbours_stored_and_poison_logged(stack, wiring, file_origin(stack, "incoming/poison.ndjson"), at, field)
    file = file_entry(stack, "incoming/poison.ndjson")
    assert file["status"]["S"] == "PROCESSED"
    assert (int(file["recordsAccepted"]["N"]), int(file["recordsRejected"]["N"])) == (2, 1)


def in_shape(shape: str, poison: bytes) -> tuple[str, bytes]:
    """The poison between its neighbours with a BOM, CRLF and blank lines: (key, decompressed bytes)."""
    if shape.endswith("array"):
        key, data = (
            "incoming/poison.json",
            b"\xef\xbb\xbf\r\n[" + raw(BEFORE) + b",\r\n\n" + poison + b",\r\n" + raw(AFTER) + b"]",
        )
    else:
        key = "incoming/poison.ndjson"
        data = b"\xef\xbb\xbf\r\n" + ndjson(BEFORE).replace(b"\n", b"\r\n\n") + poison + b"\r\n" + ndjson(AFTER)
    return (key + ".gz", data) if shape.startswith("gzip") else (key, data)


@pytest.mark.parametrize("chunked", [True, False], ids=["in-chunks", "whole"])
@pytest.mark.parametrize("shape", ["ndjson", "array", "gzip-ndjson", "gzip-array"])
@pytest.mark.parametrize(("case", "poison", "field"), POISON, ids=[case for case, _, _ in POISON])
def test_a_poison_line_costs_that_line_only_at_the_same_position_read_whole_or_in_chunks(
    stack: Stack,
    wiring: Wiring,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    poison: bytes,
    field: str,
    shape: str,
    chunked: bool,
) -> None:
    """The same file read whole, or split into ~25 chunks (at most 1 record an invocation), as NDJSON, a JSON
    array, or either gzip-compressed: the poison straddles chunk boundaries, and its position is the byte offset
    of its first byte (in the decompressed bytes for gzip) either way."""
    key, data = in_shape(shape, poison)
    if chunked:
        monkeypatch.setenv("INGEST_CHUNK_BYTES", str(len(data) // 25 + 1))
        monkeypatch.setenv("INGEST_CHUNK_RECORDS", "1")
        settings.settings.cache_clear()
    wiring.upload(key, gzip.compress(data) if key.endswith(".gz") else data)
    wiring.drain()

    offset = data.index(poison)
    assert_neighbours_stored_and_poison_logged(stack, wiring, file_origin(stack, key), offset, field)
    file = file_entry(stack, key)
    assert file["status"]["S"] == "PROCESSED"
    assert (int(file["recordsAccepted"]["N"]), int(file["recordsRejected"]["N"])) == (2, 1)
    assert ("chunksTotal" in file) == chunked
    assert file.get("chunksDone") == file.get("chunksTotal")
    assert wiring.depth("ChunkQueue") == wiring.depth("ChunkDLQ") == 0


@pytest.mark.parametrize(("case", "poison", "field"), POISON, ids=[case for case, _, _ in POISON])
def test_a_poison_record_costs_that_record_only_in_a_writer_message(
    stack: Stack, wiring: Wiring, case: str, poison: bytes, field: str
) -> None:
    body = b"[" + raw(BEFORE) + b", " + poison + b", " + raw(AFTER) + b"]"
    send_like_the_http_api(stack, body.decode())
    wiring.drain()

    at = len(b"[" + raw(BEFORE) + b", ")  # the poison's first byte in the body
    assert_neighbours_stored_and_poison_logged(stack, wiring, body_digest(body.decode()), at, field)
    assert "ErrorHandlerFunction" not in wiring.invocations, "a refusal must not fail the message"


@pytest.mark.parametrize(("case", "poison", "field"), POISON, ids=[case for case, _, _ in POISON])
def test_the_error_handler_settles_a_poison_record_instead_of_parking_its_message(
    stack: Stack, wiring: Wiring, case: str, poison: bytes, field: str
) -> None:
    """A message redriven to WriterDLQ unprocessed (Lambda's throttled receives count too) holds a poison
    record: the ErrorHandler logs it and writes its neighbours; parking is for LogTable outages only."""
    body = (b"[" + raw(BEFORE) + b", " + poison + b", " + raw(AFTER) + b"]").decode()
    send_like_the_http_api(stack, body)
    sqs, queue = stack.client("sqs"), stack.physical["WriterQueue"]
    throttled = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=throttled["ReceiptHandle"], VisibilityTimeout=0)
    wiring.drain()

    assert "WriterFunction" not in wiring.invocations, "the message should have been redriven unprocessed"
    assert wiring.invocations["ErrorHandlerFunction"] == 1
    at = len(b"[" + raw(BEFORE) + b", ")  # the poison's first byte in the body
    assert_neighbours_stored_and_poison_logged(stack, wiring, body_digest(body), at, field)
    (entry,) = refusals(stack).values()
    assert entry["stage"]["S"] == "error-handler"


def test_a_fault_of_the_stack_is_no_refusal_of_the_data_the_message_parks_instead(stack: Stack, wiring: Wiring) -> None:
    """AccessDenied (or a missing table, a KMS fault) is ours, not the record's: nothing is logged as refused,
    the message is retried, dead-lettered and parked, to be redriven once the stack is mended."""

    accounts = stack.physical["AccountTable"]

    def deny(params: dict[str, Any], **_: Any) -> None:
        if accounts in params["RequestItems"]:  # LogTable stays writable: refusals would have a place to go
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "injected"}}, "BatchWriteItem")

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.BatchWriteItem", deny)
    send_like_the_http_api(stack, json.dumps([BEFORE, AFTER]))
    wiring.drain()

    assert stored(stack) == set()
    assert refusals(stack) == {}
    assert wiring.depth("WriterParkingQueue") == 1


def test_an_unpaired_surrogate_is_logged_escaped(stack: Stack, wiring: Wiring) -> None:
    send_like_the_http_api(stack, json.dumps(VALID | {"name": "Ada \ud800"}))
    wiring.drain()
    (entry,) = refusals(stack).values()
    assert "\\ud800" in entry["record"]["S"]


def test_a_json_array_goes_on_past_an_integer_beyond_64_bits(stack: Stack, wiring: Wiring) -> None:
    records = [VALID | {"id": f"acc-{i}"} for i in range(5)]
    records[1]["balanceCents"] = 123456789012345678901234567890
    wiring.upload("incoming/big-int.json", json.dumps(records).encode())
    wiring.drain()

    assert stored(stack) == {version(r) for i, r in enumerate(records) if i != 1}
    assert list(refusals(stack)) == [(file_origin(stack, "incoming/big-int.json"), array_positions(records)[1])]


def test_an_account_dated_before_year_1000_never_overrides_a_newer_state(stack: Stack, wiring: Wiring) -> None:
    send_like_the_http_api(stack, json.dumps(VALID | {"updatedAt": "2026-06-01T00:00:00Z", "balanceCents": 2026}))
    send_like_the_http_api(stack, json.dumps(VALID | {"updatedAt": "0999-06-01T00:00:00Z", "balanceCents": 999}))
    wiring.drain()
    latest = current(stack, "acc-1")
    assert latest is not None
    assert latest.balance_cents == 2026
    assert len(stored(stack)) == 2


@pytest.mark.parametrize(
    ("key", "data"),
    [
        ("incoming/bom.json", b"\xef\xbb\xbf" + json.dumps([BEFORE, AFTER]).encode()),
        ("incoming/bom.ndjson", b"\xef\xbb\xbf" + ndjson(BEFORE, AFTER)),
        ("incoming/export.json.gz", gzip.compress(json.dumps([BEFORE, AFTER]).encode())),
        ("incoming/export.ndjson.gz", gzip.compress(ndjson(BEFORE, AFTER))),
        ("incoming/compressed-but-named.json", gzip.compress(b"\xef\xbb\xbf" + ndjson(BEFORE, AFTER))),
        ("incoming/crlf.ndjson", ndjson(BEFORE, AFTER).replace(b"\n", b"\r\n")),
    ],
)
def test_files_with_a_bom_gzip_or_crlf_are_ingested(stack: Stack, wiring: Wiring, key: str, data: bytes) -> None:
    wiring.upload(key, data)
    wiring.drain()
    assert stored(stack) == {version(BEFORE), version(AFTER)}
    assert refusals(stack) == {}
    assert file_entry(stack, key)["status"]["S"] == "PROCESSED"


def test_a_pretty_printed_object_is_one_record(stack: Stack, wiring: Wiring) -> None:
    wiring.upload("incoming/one.json", b"\n" + json.dumps(VALID, indent=2).encode() + b"\n")
    wiring.drain()
    assert stored(stack) == {version(VALID)}
    assert int(file_entry(stack, "incoming/one.json")["recordsRead"]["N"]) == 1


@pytest.mark.parametrize("data", [b"", b" \r\n\n", b"[]", b"\xef\xbb\xbf[ ]\n", gzip.compress(b"")])
def test_an_empty_file_is_recorded_as_empty(stack: Stack, wiring: Wiring, data: bytes) -> None:
    wiring.upload("incoming/empty.json", data)
    wiring.drain()
    file = file_entry(stack, "incoming/empty.json")
    assert file["status"]["S"] == "PROCESSED"
    assert int(file["recordsRead"]["N"]) == 0
    assert "no records" in file["reason"]["S"]


@pytest.mark.parametrize(
    ("data", "records_before", "position", "words"),
    [
        (b"id,name\n1,Ada\n", 0, 0, "not JSON"),
        (b"\x00\x01binary", 0, 0, "not JSON"),
        (json.dumps([BEFORE]).encode("utf-16"), 0, 0, "UTF-16"),
        (json.dumps([BEFORE, AFTER]).encode()[:-30], 1, array_positions([BEFORE, AFTER])[1], "breaks off"),
        (gzip.compress(json.dumps([BEFORE, AFTER]).encode())[:-12], 0, 0, "gzip"),
    ],
)
def test_an_unreadable_file_fails_with_a_reason_and_one_log_entry(
    stack: Stack, wiring: Wiring, data: bytes, records_before: int, position: int, words: str
) -> None:
    wiring.upload("incoming/broken.json", data)
    wiring.drain()
    file = file_entry(stack, "incoming/broken.json")
    assert file["status"]["S"] == "FAILED"
    assert words in file["reason"]["S"]
    (entry,) = refusals(stack).values()
    assert entry["fileId"]["S"] == file["fileId"]["S"]
    assert int(entry["position"]["N"]) == position
    assert words in entry["reason"]["S"]
    assert len(stored(stack)) == records_before
    assert wiring.depth("PipelineEventsDLQ") == 0, "an unreadable file is settled, not retried"


def test_positions_count_the_bytes_of_leading_blank_lines(stack: Stack, wiring: Wiring) -> None:
    data = b"\n\r\n\n" + ndjson(BEFORE, b"{broken")
    wiring.upload("incoming/blank-lines.ndjson", data)
    wiring.drain()
    assert list(refusals(stack)) == [(file_origin(stack, "incoming/blank-lines.ndjson"), data.index(b"{broken"))]


def test_a_retried_writer_request_is_logged_once(stack: Stack, wiring: Wiring) -> None:
    body = json.dumps([BEFORE, VALID | {"email": "nope"}])
    first, retry = send_like_the_http_api(stack, body), send_like_the_http_api(stack, body)
    wiring.drain()
    (entry,) = refusals(stack).values()
    assert entry["messageId"]["S"] in {first, retry}
    assert stored(stack) == {version(BEFORE)}


def test_a_record_dynamodb_refuses_for_good_is_logged_without_retries(stack: Stack, wiring: Wiring) -> None:
    """A ValidationException will never pass: the item is settled in LogTable at once, its neighbours written."""
    refused_id = "acc-refused"

    def refuse(params: dict[str, Any], **_: Any) -> None:
        for requests in params["RequestItems"].values():
            if any(r["PutRequest"]["Item"].get("accountId", {}).get("S") == refused_id for r in requests):
                raise ClientError({"Error": {"Code": "ValidationException", "Message": "injected"}}, "BatchWriteItem")

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.BatchWriteItem", refuse)
    send_like_the_http_api(stack, json.dumps([BEFORE, VALID | {"id": refused_id}, AFTER]))
    wiring.drain()

    assert stored(stack) == {version(BEFORE), version(AFTER)}
    (entry,) = refusals(stack).values()
    assert "AccountTable refused the record: ValidationException" in entry["reason"]["S"]
    assert "ErrorHandlerFunction" not in wiring.invocations
