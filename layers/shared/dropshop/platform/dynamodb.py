"""DynamoDB done right: batches retried with jittered backoff, transactions that say which condition failed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from dropshop.platform.observability import logger

Item = dict[str, dict[str, Any]]  # an item in DynamoDB's attribute-value format
BATCH_WRITE_LIMIT = 25
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_MAX_SECONDS = 2.0


# Errors that pass: throttling and DynamoDB's own faults.
RETRYABLE_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# The one error about the item itself (too large, an attribute DynamoDB cannot store): it will never succeed,
# and retrying it only stalls the batch. Any other error (access denied, a missing table, a KMS key or
# credentials fault) is ours, not the data's: it raises, so the message is retried and then dead-lettered
# instead of its records being refused.
ITEM_REFUSALS = frozenset({"ValidationException"})


@dataclass
class BatchWriteOutcome:
    unwritten: list[Item] = field(default_factory=list)  # not written after retries: try again later
    refused: list[tuple[Item, str]] = field(default_factory=list)  # DynamoDB will never take these (and why)
    calls: int = 0


def backoff(attempt: int) -> float:
    """Full-jitter exponential backoff (the AWS Architecture Blog's recommendation)."""
    return random.uniform(0, min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - jitter


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def batch_put(
    dynamodb: Any,
    table: str,
    items: Iterable[Item],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchWriteOutcome:
    """Put every item; return the ones still unwritten after MAX_ATTEMPTS tries, and those DynamoDB refuses
    for good, each with DynamoDB's reason (never raise for them). Faults of the stack, not the data, raise.

    boto3's batch_writer resends UnprocessedItems at once, which is exactly when DynamoDB is throttling;
    here each retry waits longer (full jitter), and what cannot be written is handed back to the caller.
    """
    outcome = BatchWriteOutcome()
    for chunk in chunked(items, BATCH_WRITE_LIMIT):
        pending = [{"PutRequest": {"Item": item}} for item in chunk]
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                sleep(backoff(attempt))
            outcome.calls += 1
            try:
                response = dynamodb.batch_write_item(RequestItems={table: pending})
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code in ITEM_REFUSALS:
                    pending = _put_one_by_one(dynamodb, table, pending, outcome)
                    if not pending:
                        break
                    continue
                if code not in RETRYABLE_ERRORS:
                    raise
                # Throttling that outlived botocore's own retries: back off and resend the whole chunk.
                logger.warning("batch write failed", extra={"table": table, "error": str(error), "attempt": attempt})
                continue
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
        outcome.unwritten += [request["PutRequest"]["Item"] for request in pending]
    return outcome


def _put_one_by_one(
    dynamodb: Any, table: str, requests: list[dict[str, Any]], outcome: BatchWriteOutcome
) -> list[dict[str, Any]]:
    """A chunk DynamoDB refused as a whole: each item alone, so that only the item at fault is refused.
    Returns the requests still to retry (those that met throttling on their own)."""
    retry = []
    for request in requests:
        outcome.calls += 1
        try:
            response = dynamodb.batch_write_item(RequestItems={table: [request]})
        except ClientError as error:
            details = error.response.get("Error", {})
            if details.get("Code") in RETRYABLE_ERRORS:
                retry.append(request)
            elif details.get("Code") in ITEM_REFUSALS:
                outcome.refused.append(
                    (request["PutRequest"]["Item"], f"{details.get('Code')}: {details.get('Message')}")
                )
            else:
                raise
            continue
        retry += response.get("UnprocessedItems", {}).get(table, [])
    return retry


class TransactionCancelled(Exception):
    """A TransactWriteItems call that DynamoDB cancelled; `failed_conditions` are the indexes whose
    condition did not hold (empty when DynamoDB did not say which, or cancelled for another reason)."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__(", ".join(reason.get("Code", "?") for reason in reasons))
        self.failed_conditions = [
            i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"
        ]


def transact_write(dynamodb: Any, items: list[dict[str, Any]]) -> None:
    """All of `items` or none of them; a cancelled transaction raises TransactionCancelled."""
    try:
        dynamodb.transact_write_items(TransactItems=items)
    except dynamodb.exceptions.TransactionCanceledException as cancelled:
        raise TransactionCancelled(cancelled.response.get("CancellationReasons", [])) from None


def batch_get(dynamodb: Any, table: str, keys: list[Item], *, consistent: bool = False) -> list[Item]:
    """Every item of `keys` that exists (100 keys a call), UnprocessedKeys retried with backoff."""
    found: list[Item] = []
    for chunk in chunked(keys, 100):
        request: dict[str, Any] = {table: {"Keys": chunk, "ConsistentRead": consistent}}
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                time.sleep(backoff(attempt))
            response = dynamodb.batch_get_item(RequestItems=request)
            found += response.get("Responses", {}).get(table, [])
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        if request:
            raise RuntimeError(f"{table}: keys still unprocessed after {MAX_ATTEMPTS} attempts")
    return found
