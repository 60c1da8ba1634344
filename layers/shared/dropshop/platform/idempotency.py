"""Powertools idempotency over IdempotencyTable: a request retried under the same key gets the first answer.

Powertools idempotency loads boto3 and its DynamoDB layer (~200 ms): it is imported by the first call that
needs it, so importing this module, checking a key and tracking the invocation cost a cold start nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from dropshop.platform import aws
from dropshop.platform.errors import Conflict, Unprocessable
from dropshop.platform.observability import logger
from dropshop.platform.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

# What a client may send as an Idempotency-Key: an opaque token of visible ASCII, a UUID being the usual
# choice. The route checks it (handlers/orders: a 422 naming the header) and the OpenAPI document declares it.
MAX_KEY_LENGTH = 128
KEY_PATTERN = rf"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
# Retries come within minutes; a day covers a client that retries after an outage.
REMEMBER_FOR_SECONDS = 24 * 3600

# The invocation under way, for the first request that carries a key (see `track`).
_invocation: dict[str, Any] = {}


@cache
def _config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[caller, key]",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=REMEMBER_FOR_SECONDS,
    )


@cache
def _store() -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    # The function's own DynamoDB client (traced, made once): not a second one from a boto3 session of its own.
    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=aws.client("dynamodb"))


def prepare() -> None:
    """Load Powertools idempotency and build its DynamoDB layer now: for functions whose every event uses it,
    so the work happens during init rather than in the first event."""
    _config()
    _store()


def track(context: Any) -> None:
    """Call from the handler: a run cut off by its timeout frees the key when the timeout passes."""
    _invocation["context"] = context


def once(
    operation: Callable[[dict[str, Any]], dict[str, Any]], *, caller: str, key: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """`operation(payload)` at most once per (caller, key): a repeat returns the stored answer, a repeat with a
    different payload is 422, a repeat while the first is still running is 409 (retry shortly), and a store throttled
    past botocore's retries before the operation ran is 503 with Retry-After (the function's own DynamoDB client, so
    its standard retry mode, does the retries). Once the operation ran, the store's failures no longer decide the
    answer: its result stands when the record cannot be marked complete, and its own error (a 404, 409, 422...) is
    raised when the record cannot be deleted after it (Powertools raises IdempotencyPersistenceLayerError for both);
    a repeat is then 409 until the record's in-progress lease, this run's remaining time, is over."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )
    from botocore.exceptions import ClientError

    from dropshop.platform import dynamodb

    config = _config()
    if "context" in _invocation:
        config.register_lambda_context(_invocation["context"])

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=_store(),
        config=config,
        key_prefix=f"{operation.__module__}.{operation.__qualname__}",  # keys of two operations never meet
    )
    def run(request: dict[str, Any]) -> dict[str, Any]:
        try:
            done["result"] = operation(request["payload"])
        except Exception as error:
            raised.append(error)
            raise
        return done["result"]

    done: dict[str, dict[str, Any]] = {}
    raised: list[Exception] = []
    try:
        result: dict[str, Any] = run(request={"caller": caller, "key": key, "payload": payload})
    except IdempotencyValidationError:
        raise Unprocessable("this key was used for a different request", field="Idempotency-Key") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this key is still in progress; retry shortly", field="Idempotency-Key") from None
    except IdempotencyPersistenceLayerError as error:
        if "result" in done:
            # Done, but its record is not marked complete: the answer stands (answering 503 would invite a retry,
            # which Powertools runs again once the record's in-progress lease, this run's remaining time, is over).
            logger.warning("idempotency record not completed", extra={"error": str(error.__cause__)})
            return done["result"]
        if raised:
            # The operation raised, then deleting its record failed: its own error is the answer (a 503 would turn
            # a 4xx the client must fix into a retry).
            logger.warning("idempotency record not deleted", extra={"error": str(error.__cause__)})
            raise raised[0] from None
        code = (
            error.__cause__.response.get("Error", {}).get("Code") if isinstance(error.__cause__, ClientError) else None
        )
        if code in dynamodb.THROTTLES:  # throttled past botocore's retries: nothing was done, retry shortly
            raise dynamodb.unavailable(code) from error
        raise
    return result
