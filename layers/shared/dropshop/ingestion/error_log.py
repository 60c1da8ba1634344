"""LogTable: one entry per refused record, keyed so that re-runs and redeliveries never add a second one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dropshop.ingestion.model import Origin, RecordRef, Rejection, timestamp
from dropshop.platform.dynamodb import BATCH_WRITE_LIMIT, Item, batch_get, batch_put, chunked


class ErrorLogUnavailable(Exception):
    """Some rejections could not be logged; the caller must not acknowledge their message."""


class ErrorLog:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def record(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        logged_at = timestamp()
        outcome = batch_put(self._dynamodb, self._table, self._items(rejections, logged_at))
        # Entries are bounded and escaped (Rejection.of), so a refused one is a fault of ours, not of the data:
        # the message must not be acknowledged either way.
        lost = len(outcome.unwritten) + len(outcome.refused)
        if lost:
            reasons = {reason for _, reason in outcome.refused}
            raise ErrorLogUnavailable(f"{lost} rejections could not be logged {sorted(reasons)}")

    def withdraw(self, written: Sequence[RecordRef]) -> int:
        """Remove the entries of records that are written after all; returns how many there were.

        A record logged as not written may come back (a redelivered dead letter, a client's retry, a takeover
        run) once DynamoDB takes it: it then ends in AccountTable alone. Whoever writes a record reads its entry
        with a strongly consistent read after the write, and whoever logs one checks AccountTable after the log,
        so of two deliveries racing, the second always sees the first (docs/pipeline.md, "Exactly one table")."""
        keys = [{"entryId": {"S": key}} for key in dict.fromkeys(ref.key for ref in written)]
        found = [{"entryId": item["entryId"]} for item in batch_get(self._dynamodb, self._table, keys, consistent=True)]
        for chunk in chunked(found, BATCH_WRITE_LIMIT):
            # Rare (a record logged, then written): one try, and the message comes back if a delete is not taken.
            response = self._dynamodb.batch_write_item(
                RequestItems={self._table: [{"DeleteRequest": {"Key": key}} for key in chunk]}
            )
            if response.get("UnprocessedItems"):
                raise ErrorLogUnavailable("entries of written records could not be withdrawn yet")
        return len(found)

    @staticmethod
    def _items(rejections: Sequence[Rejection], logged_at: str) -> Iterator[Item]:
        """Their entries. The attributes of their origin (one origin's rejections, as every caller logs them) are
        written once for every run of rejections of one origin, the time they are logged once, and shared by the
        entries: botocore only reads them, and a refusal costs ~1.2 us less (A/B in one process)."""
        origin, where = None, {}
        logged = {"S": logged_at}
        for rejection in rejections:
            ref = rejection.ref
            if ref.origin is not origin:
                origin = ref.origin
                where = _origin_attributes(origin)
            yield {
                "entryId": {"S": ref.key},
                "position": {"N": str(ref.position)},
                "reason": {"S": rejection.reason},
                "record": {"S": rejection.excerpt},
                "stage": {"S": rejection.stage},
                "receivedAt": {"S": rejection.received_at},
                "loggedAt": logged,
                **where,
            }


def _origin_attributes(origin: Origin) -> Item:
    where: Item = {"origin": {"S": origin.name}, "kind": {"S": origin.kind}}
    if origin.file_id:
        where["fileId"] = {"S": origin.file_id}
    if origin.message_id:
        where["messageId"] = {"S": origin.message_id}
    if origin.body_digest:
        where["bodyDigest"] = {"S": origin.body_digest}
    return where
