"""AWS clients, created once per container and reused by every invocation."""

from __future__ import annotations

from functools import cache
from typing import Any

from dropshop.platform import snapshot
from dropshop.platform.observability import tracer

# What botocore's standard mode gives DynamoDB in other SDKs too: the first attempt and three retries.
DYNAMODB_ATTEMPTS = 4
# A status post: connected within 2 s, answered within 3 s, tried twice (the first post and one retry).
PUSH_CONNECT_TIMEOUT, PUSH_READ_TIMEOUT = 2, 3
PUSH_RETRIES: Any = {"mode": "standard", "total_max_attempts": 2}
# The longest one post can take, when each attempt stalls: its timeouts, and standard mode's backoff before each
# retry, at most 2 ** (attempt - 1) s (so 1 s before the second; "Retry behavior",
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). A batch of stalled posts would
# outlive the push function's 30 s: realtime/service.py stops posting when less than this (and the writes after)
# is left, and SQS redelivers the rest.
PUSH_POST_WORST_SECONDS = PUSH_RETRIES["total_max_attempts"] * (PUSH_CONNECT_TIMEOUT + PUSH_READ_TIMEOUT) + sum(
    2 ** (attempt - 1) for attempt in range(1, PUSH_RETRIES["total_max_attempts"])
)


@cache
def client(service: str, *, endpoint_url: str | None = None, signature_version: str | None = None) -> Any:
    """The one client per service (and endpoint, and signature) this container uses."""
    # botocore reads AWS_ENDPOINT_URL itself and ignores it when empty, so a local stack needs nothing here.
    from botocore.config import Config

    # DynamoDB in botocore's standard retry mode: throttles (ProvisionedThroughputExceeded, ThrottlingException,
    # RequestLimitExceeded) and 5xx resent with full-jitter backoff under a retry quota; the legacy default backs
    # off without jitter, so throttled callers retry in step. Neither mode resends a cancelled transaction or a
    # TransactionConflictException: platform/dynamodb.py does. (Retry behavior,
    # https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html)
    retries: Any = {"mode": "standard", "total_max_attempts": DYNAMODB_ATTEMPTS} if service == "dynamodb" else None
    config = Config(signature_version=signature_version, retries=retries)
    if service == "apigatewaymanagementapi":
        # A post to a socket answers in milliseconds; botocore's 60 s defaults would let one unreachable endpoint
        # outlive the push function's 30 s. A push cut short is resent on redelivery (realtime/service.py).
        config = config.merge(
            Config(connect_timeout=PUSH_CONNECT_TIMEOUT, read_timeout=PUSH_READ_TIMEOUT, retries=PUSH_RETRIES)
        )
    return _session().create_client(service, endpoint_url=endpoint_url, config=config)


@cache
def _session() -> Any:
    # botocore's own session makes the very clients boto3 would, without importing boto3 and s3transfer
    # (~60 ms of cold start); functions that never call AWS import neither.
    import botocore.session

    tracer.patch(["botocore"])  # trace what we use, from the first client on
    snapshot.refresh_after_restore()  # botocore's retry jitter must differ between restored environments
    return botocore.session.get_session()
