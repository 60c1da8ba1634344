"""Transient AWS faults injected into real (moto) calls through botocore's event hooks.

moto never returns UnprocessedItems nor fails a batch entry (FACTS.md). These hooks make it: a share of
a BatchWriteItem's items is held back from moto and reported as UnprocessedItems, a share of a
SendMessageBatch's entries reported Failed, and a share of calls throttled outright. What moto receives
it really stores; what is held back is really not stored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class Faults:
    rate: float
    rng: random.Random = field(default_factory=lambda: random.Random(42))  # noqa: S311 - test randomness
    throttle_rate: float = 0.0
    injected: dict[str, int] = field(default_factory=dict)
    _held_back: dict[str, Any] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_name
        if service == "dynamodb":
            events.register("before-call.dynamodb.BatchWriteItem", self._maybe_throttle)
            events.register("provide-client-params.dynamodb.BatchWriteItem", self._hold_back_items)
            events.register("after-call.dynamodb.BatchWriteItem", self._report_unprocessed)
        elif service == "sqs":
            events.register("before-call.sqs.SendMessageBatch", self._maybe_throttle)
            events.register("provide-client-params.sqs.SendMessageBatch", self._hold_back_entries)
            events.register("after-call.sqs.SendMessageBatch", self._report_failed)

    def _count(self, kind: str, n: int = 1) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + n

    def _maybe_throttle(self, model: Any, **_: Any) -> None:
        if self.rng.random() < self.throttle_rate:
            self._count(f"throttled {model.name} calls")
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, model.name)

    def _hold_back_items(self, params: dict[str, Any], **_: Any) -> None:
        held: dict[str, list[Any]] = {}
        for table, requests in params["RequestItems"].items():
            keep = [r for r in requests if self.rng.random() >= self.rate]
            if not keep:  # DynamoDB never processes nothing at all; keep one so the call is valid
                keep = requests[:1]
            held[table] = [r for r in requests if r not in keep]
            params["RequestItems"][table] = keep
            self._count("unprocessed items", len(held[table]))
        self._held_back["dynamodb"] = {t: r for t, r in held.items() if r}

    def _report_unprocessed(self, parsed: dict[str, Any], **_: Any) -> None:
        held = self._held_back.pop("dynamodb", {})
        if held:
            parsed.setdefault("UnprocessedItems", {}).update(held)

    def _hold_back_entries(self, params: dict[str, Any], **_: Any) -> None:
        entries = params["Entries"]
        keep = [e for e in entries if self.rng.random() >= self.rate] or entries[:1]
        held = [e for e in entries if e not in keep]
        params["Entries"] = keep
        self._held_back["sqs"] = held
        self._count("failed entries", len(held))

    def _report_failed(self, parsed: dict[str, Any], **_: Any) -> None:
        held = self._held_back.pop("sqs", [])
        if held:
            parsed.setdefault("Failed", []).extend(
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"} for e in held
            )
