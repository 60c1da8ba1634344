"""The context object Lambda passes to handlers (only the attributes Powertools reads)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function:live"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/dropshop/test"
    log_stream_name: str = "2026/11/24/[$LATEST]abc"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000
