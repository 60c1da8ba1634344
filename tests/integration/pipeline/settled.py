"""Where records ended, read back from the tables: LogTable entries by the identity of the refused record,
AccountTable items by (accountId, version)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dropshop.accounts.model import Account
from dropshop.accounts.repository import AccountRepository
from dropshop.platform import aws
from tests.integration.pipeline.conftest import scan
from tools.local.stack import Stack

API_ORIGIN = "POST /writer"


def send_like_the_http_api(stack: Stack, body: str) -> str:
    """What the HTTP API's SQS-SendMessage integration does with a POST /writer body (template.yaml)."""
    return str(
        stack.client("sqs").send_message(
            QueueUrl=stack.physical["WriterQueue"],
            MessageBody=body,
            MessageAttributes={"source": {"DataType": "String", "StringValue": "api"}},
        )["MessageId"]
    )


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def file_origin(stack: Stack, key: str) -> str:
    return f"s3://{stack.physical['DataBucket']}/{key}"


def log_entries(stack: Stack) -> list[dict[str, Any]]:
    return scan(stack, "LogTable")


def refusals(stack: Stack) -> dict[tuple[str, int], dict[str, Any]]:
    """LogTable by identity: (file origin, position) or (body digest, position). Asserts none is twice."""
    entries: dict[tuple[str, int], dict[str, Any]] = {}
    for item in log_entries(stack):
        anchor = item["bodyDigest"]["S"] if item["kind"]["S"] == "api" else item["origin"]["S"]
        identity = (anchor, int(item["position"]["N"]))
        assert identity not in entries, f"{identity} logged twice"
        entries[identity] = item
    return entries


def stored(stack: Stack) -> set[tuple[str, str]]:
    return {(item["accountId"]["S"], item["version"]["S"]) for item in scan(stack, "AccountTable")}


def current(stack: Stack, account_id: str) -> Account | None:
    return AccountRepository(aws.client("dynamodb"), stack.physical["AccountTable"]).current(account_id)


def version(record: dict[str, Any]) -> tuple[str, str]:
    account = Account.model_validate(record)
    return account.account_id, account.version


def file_entry(stack: Stack, key: str) -> dict[str, Any]:
    (item,) = [f for f in scan(stack, "FilesTable") if "key" in f and f["key"]["S"] == key]  # not chunk markers
    return item


def ndjson(*records: object) -> bytes:
    """One line per record: bytes are written as they are (a broken line), anything else as JSON."""
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)
