"""Transient AWS faults injected into real (moto) calls through botocore's event hooks.

moto never returns UnprocessedItems nor fails a batch entry (FACTS.md). These hooks make it: a share of
a BatchWriteItem's items is held back from moto and reported as UnprocessedItems, a share of a
SendMessageBatch's entries reported Failed, and a share of calls throttled outright (after botocore's
own retries, as the caller sees it). What moto receives it really stores; what is held back is really
not stored. A hot partition (`unwritable`) is throttled for the whole run: its items always come back
unprocessed, and a call holding nothing else fails with ProvisionedThroughputExceededException, as
BatchWriteItem does when none of its items can be processed
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class Faults:
    rate: float = 0.0
    throttle_rate: float = 0.0
    outage: int = 0  # the first N calls that match fail outright: an outage that then ends
    tables: set[str] | None = None  # only calls that write these tables (all tables when None)
    unwritable: Callable[[dict[str, Any]], bool] | None = None  # items (attribute values) of a throttled partition
    rng: random.Random = field(default_factory=lambda: random.Random(42))  # noqa: S311 - test randomness
    injected: dict[str, int] = field(default_factory=dict)
    _held_back: Any = None
    _fail_call: bool = False
    _sent: bool = True

    def attach(self, client: Any) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_name
        if service == "dynamodb":
            events.register("provide-client-params.dynamodb.BatchWriteItem", self._hold_back_items)
            events.register("before-call.dynamodb.BatchWriteItem", self._maybe_fail_call)
            events.register("after-call.dynamodb.BatchWriteItem", self._report_unprocessed)
        elif service == "sqs":
            events.register("provide-client-params.sqs.SendMessageBatch", self._hold_back_entries)
            events.register("before-call.sqs.SendMessageBatch", self._maybe_fail_call)
            events.register("after-call.sqs.SendMessageBatch", self._report_failed)

    def _count(self, kind: str, n: int = 1) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + n

    def _decide_call_failure(self) -> None:
        if self.outage > 0:
            self.outage -= 1
            self._fail_call = True
        else:
            self._fail_call = self.rng.random() < self.throttle_rate

    def _maybe_fail_call(self, model: Any, **_: Any) -> None:
        if self._fail_call:
            self._fail_call = False
            self._count(f"throttled {model.name} calls")
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, model.name)
        if self._held_back and model.name == "BatchWriteItem" and not self._sent:
            self._held_back = None
            self._count("throttled partition calls")
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, model.name
            )

    def _hold_back_items(self, params: dict[str, Any], **_: Any) -> None:
        self._held_back, self._sent = {}, True
        if self.tables is not None and not set(params["RequestItems"]) & self.tables:
            self._fail_call = False
            return
        self._decide_call_failure()
        kept: dict[str, list[Any]] = {}
        for table, requests in params["RequestItems"].items():
            writable = [r for r in requests if not self._unwritable(r)]
            keep = [r for r in writable if self.rng.random() >= self.rate] or writable[:1]
            kept[table] = keep
            held = [r for r in requests if r not in keep]
            if held:
                self._held_back[table] = held
        # Nothing left to send: the whole call is refused (before-call raises), moto receives nothing.
        self._sent = any(kept.values())
        if self._sent:
            params["RequestItems"] = {table: keep for table, keep in kept.items() if keep}
            self._count("unprocessed items", sum(len(held) for held in self._held_back.values()))

    def _unwritable(self, request: dict[str, Any]) -> bool:
        put = request.get("PutRequest")
        if self.unwritable is None or put is None or not self.unwritable(put["Item"]):
            return False
        self._count("items of a throttled partition")
        return True

    def _report_unprocessed(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._held_back:
            parsed.setdefault("UnprocessedItems", {}).update(self._held_back)
        self._held_back = None

    def _hold_back_entries(self, params: dict[str, Any], **_: Any) -> None:
        self._decide_call_failure()
        entries = params["Entries"]
        keep = [e for e in entries if self.rng.random() >= self.rate] or entries[:1]
        self._held_back = [e for e in entries if e not in keep]
        params["Entries"] = keep
        self._count("failed entries", len(self._held_back))

    def _report_failed(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._held_back:
            parsed.setdefault("Failed", []).extend(
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
                for e in self._held_back
            )
        self._held_back = None
