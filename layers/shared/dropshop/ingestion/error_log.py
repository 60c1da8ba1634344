"""LogTable: one entry per refused record, keyed so that re-runs and redeliveries never add a second one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dropshop.ingestion.model import Rejection
from dropshop.platform.dynamodb import Item, batch_put


class ErrorLogUnavailable(Exception):
    """Some rejections could not be logged; the caller must not acknowledge their message."""


class ErrorLog:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def record(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        logged_at = datetime.now(UTC).isoformat()
        outcome = batch_put(self._dynamodb, self._table, (self._item(r, logged_at) for r in rejections))
        if outcome.unwritten:
            raise ErrorLogUnavailable(f"{len(outcome.unwritten)} rejections could not be logged")

    @staticmethod
    def _item(rejection: Rejection, logged_at: str) -> Item:
        origin = rejection.ref.origin
        item: Item = {
            "entryId": {"S": rejection.ref.key},
            "origin": {"S": origin.name},
            "kind": {"S": origin.kind},
            "position": {"N": str(rejection.ref.position)},
            "reason": {"S": rejection.reason},
            "record": {"S": rejection.excerpt},
            "stage": {"S": rejection.stage},
            "receivedAt": {"S": rejection.received_at},
            "loggedAt": {"S": logged_at},
        }
        if origin.file_id:
            item["fileId"] = {"S": origin.file_id}
        if origin.message_id:
            item["messageId"] = {"S": origin.message_id}
        return item
