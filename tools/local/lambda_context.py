"""The context object Lambda passes to handlers (only the attributes Powertools reads)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function:live"
    # Each invocation its own; Lambda keeps an asynchronous invocation's across its retries (the caller passes it
    # then): https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/dropshop/test"
    log_stream_name: str = "2026/11/24/[$LATEST]abc"

    # The function's Timeout (template.yaml), counted down from the invocation's start as Lambda counts it; a
    # context made without one (a test calling a handler) reports 10 s left throughout.
    timeout_seconds: float | None = None
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        if self.timeout_seconds is None:
            return 10_000
        return int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000)
