"""Sending WriterQueue and ChunkQueue messages with SendMessageBatch: up to 10 entries and 256 KiB a call, retried."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from dropshop.ingestion.messages import SOURCE_ATTRIBUTE
from dropshop.platform.dynamodb import MAX_ATTEMPTS, backoff
from dropshop.platform.observability import logger

BATCH_ENTRIES = 10
BATCH_LIMIT_BYTES = 256 * 1024


class QueueUnavailable(Exception):
    """Messages could not be sent after retries; the run (a file's or a chunk's) fails and is retried."""


class QueueSender:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._sleep = sleep
        self._batch: list[str] = []
        self._batch_bytes = 0
        self.messages_sent = 0

    def send(self, bodies: Iterable[str]) -> None:
        for body in bodies:
            size = len(body.encode()) + 64  # the `source` attribute counts towards the batch's size
            if len(self._batch) == BATCH_ENTRIES or self._batch_bytes + size > BATCH_LIMIT_BYTES:
                self.flush()
            self._batch.append(body)
            self._batch_bytes += size

    def flush(self) -> None:
        pending = {str(i): body for i, body in enumerate(self._batch)}
        self._batch, self._batch_bytes = [], 0
        for attempt in range(MAX_ATTEMPTS):
            if not pending:
                return
            if attempt:
                self._sleep(backoff(attempt))
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {
                            "Id": entry_id,
                            "MessageBody": body,
                            "MessageAttributes": {SOURCE_ATTRIBUTE: {"DataType": "String", "StringValue": "file"}},
                        }
                        for entry_id, body in pending.items()
                    ],
                )
            except ClientError as error:
                # Throttling that outlived botocore's own retries: back off and resend, not re-run the file.
                logger.warning("send batch failed", extra={"error": str(error), "attempt": attempt})
                continue
            sent = [entry["Id"] for entry in response.get("Successful", [])]
            self.messages_sent += len(sent)
            for entry_id in sent:
                del pending[entry_id]
        if pending:
            raise QueueUnavailable(f"{len(pending)} messages could not be sent to {self._queue_url.rsplit('/', 1)[-1]}")
