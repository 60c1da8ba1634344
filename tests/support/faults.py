"""Transient AWS faults injected into real (moto) calls through botocore's event hooks.

moto never returns UnprocessedItems nor fails a batch entry (FACTS.md). These hooks make it: a share of
a BatchWriteItem's items is held back from moto and reported as UnprocessedItems, a share of a
SendMessageBatch's entries reported Failed, and a share of calls throttled outright (after botocore's
own retries, as the caller sees it). What moto receives it really stores; what is held back is really
not stored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class Faults:
    rate: float = 0.0
    throttle_rate: float = 0.0
    outage: int = 0  # the first N calls that match fail outright: an outage that then ends
    tables: set[str] | None = None  # only calls that write these tables (all tables when None)
    rng: random.Random = field(default_factory=lambda: random.Random(42))  # noqa: S311 - test randomness
    injected: dict[str, int] = field(default_factory=dict)
    _held_back: Any = None
    _fail_call: bool = False

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

    def _hold_back_items(self, params: dict[str, Any], **_: Any) -> None:
        self._held_back = {}
        if self.tables is not None and not set(params["RequestItems"]) & self.tables:
            self._fail_call = False
            return
        self._decide_call_failure()
        for table, requests in params["RequestItems"].items():
            keep = [r for r in requests if self.rng.random() >= self.rate] or requests[:1]
            held = [r for r in requests if r not in keep]
            params["RequestItems"][table] = keep
            if held:
                self._held_back[table] = held
                self._count("unprocessed items", len(held))

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
