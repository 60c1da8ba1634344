"""DynamoDB done right: batches retried with jittered backoff, transactions that say which condition failed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from dropshop.platform.errors import ServiceUnavailable
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


def backoff(attempt: int, *, base: float | None = None, cap: float | None = None) -> float:
    """Full-jitter exponential backoff (the AWS Architecture Blog's recommendation); the module's schedule unless
    `base` and `cap` say otherwise."""
    base = BACKOFF_BASE_SECONDS if base is None else base
    cap = BACKOFF_MAX_SECONDS if cap is None else cap
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter


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


# Why DynamoDB cancels a transaction besides a condition ("Cancellation reason codes" of TransactionCanceledException,
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html): another transaction
# or write on one of its items, or a throttled table or index. Nothing was written, so the same request may be sent
# again; botocore's retry modes never resend a cancelled transaction, whatever its reasons.
TRANSIENT_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# A single write on an item that an ongoing transaction holds (UpdateItem, PutItem, DeleteItem; "Transaction conflict
# handling", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html): botocore's
# retry modes do not resend it either.
TRANSACTION_CONFLICT = "TransactionConflictException"
# Throttling codes botocore's standard mode retries itself (botocore/retries/standard.py, and the SDKs'
# "Retry behavior" page, https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): what is
# still throttled after its attempts is answered 503, never retried again here on top of its own retries.
THROTTLES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
# A conflicting transaction holds its items for milliseconds: many short, jittered waits (at most ~4 s in all,
# well inside the API functions' 10 s) serve a hot item's queue of buyers better than a few long ones.
CONFLICT_ATTEMPTS = 12
CONFLICT_BACKOFF_BASE_SECONDS = 0.02
CONFLICT_BACKOFF_MAX_SECONDS = 0.5
# What a client told to come back (503 Retry-After) waits: a throttled partition recovers within seconds.
RETRY_AFTER_SECONDS = 1


class TransactionCancelled(Exception):
    """A TransactWriteItems call that DynamoDB cancelled for a condition; `failed_conditions` are the indexes
    whose condition did not hold (empty when DynamoDB did not say which)."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__(", ".join(reason.get("Code", "?") for reason in reasons))
        self.codes = {reason.get("Code") for reason in reasons}
        self.failed_conditions = [
            i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"
        ]

    @property
    def transient(self) -> bool:
        """Cancelled for a conflict or a throttle alone: the same transaction may well pass a moment later."""
        return not self.failed_conditions and bool(self.codes & TRANSIENT_CANCELLATIONS)


def transact_write(dynamodb: Any, items: list[dict[str, Any]], *, retry: bool = True) -> None:
    """All of `items` or none of them. A transaction cancelled for a conflict or a throttle is sent again with
    jittered backoff (it wrote nothing); one a condition cancels raises TransactionCancelled; one still refused
    after CONFLICT_ATTEMPTS raises ServiceUnavailable. Without `retry`, every cancellation raises
    TransactionCancelled (its `transient` says which kind): for a caller that reads again between attempts."""

    def attempt() -> None:
        try:
            dynamodb.transact_write_items(TransactItems=items)
        except dynamodb.exceptions.TransactionCanceledException as cancelled:
            raise TransactionCancelled(cancelled.response.get("CancellationReasons", [])) from None

    if retry:
        retry_transient(attempt)
    else:
        attempt()


def conflict_backoff(attempt: int) -> float:
    return backoff(attempt, base=CONFLICT_BACKOFF_BASE_SECONDS, cap=CONFLICT_BACKOFF_MAX_SECONDS)


def retry_transient[T](call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    """`call` (one DynamoDB request that is safe to send again: a refused request changed nothing), sent again
    with jittered backoff while it meets a transaction on its items or cancels for a conflict or a throttle.
    Throttles botocore's own retries could not absorb, and conflicts that outlast CONFLICT_ATTEMPTS, are
    ServiceUnavailable: a retryable 503 at the API, a message that comes back on a queue."""
    for attempt in range(CONFLICT_ATTEMPTS):
        if attempt:
            sleep(conflict_backoff(attempt))
        try:
            return call()
        except TransactionCancelled as cancelled:
            if not cancelled.transient:
                raise
            reason = str(cancelled)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in THROTTLES:
                raise unavailable(code) from error
            if code != TRANSACTION_CONFLICT:
                raise
            reason = code
        logger.info("DynamoDB request refused for now", extra={"reason": reason, "attempt": attempt})
    raise unavailable(reason)


def unavailable(reason: str | None) -> ServiceUnavailable:
    return ServiceUnavailable(f"the store is busy ({reason}); try again shortly", retry_after=RETRY_AFTER_SECONDS)


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
