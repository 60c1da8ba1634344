"""AWS clients, created once per container and reused by every invocation."""

from __future__ import annotations

from functools import cache
from typing import Any

from dropshop.platform.observability import tracer


@cache
def client(service: str) -> Any:
    # Imported here, not at module level: functions that never call AWS skip boto3's ~140 ms import.
    import boto3

    _trace_aws_calls()
    # boto3 reads AWS_ENDPOINT_URL itself (and ignores it when empty), so local stacks need nothing here.
    return boto3.client(service)  # type: ignore[call-overload]


@cache
def _trace_aws_calls() -> None:
    tracer.patch(["botocore"])
