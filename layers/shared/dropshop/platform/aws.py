"""AWS clients, created once per container and reused by every invocation."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3


@cache
def client(service: str) -> Any:
    # boto3 reads AWS_ENDPOINT_URL itself (and ignores it when empty), so local stacks need nothing here.
    return boto3.client(service)  # type: ignore[call-overload]
