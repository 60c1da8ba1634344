"""DynamoDB's refusals that moto never gives, injected in front of moto's server (see tools.local.faults).

Off until the stack turns them on (after provisioning and seeding): `POST /_local/faults` with
`{"faults": "aws", "seed": 7}` (and `"rates"` to change a fault's); `GET /_local/faults` answers what fired.
A refused request never reaches moto, so it changes nothing, as on DynamoDB; a batch's unprocessed part is kept
from moto and answered as unprocessed. Conflicts strike only where DynamoDB's can: a transaction one of whose items
was written in the last few seconds (the culprit's reason on that item), a plain write to an item a transaction
wrote in that time. A fresh item (a new connection, a new order) never conflicts.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from tools.local.faults import MOTO_FAULTS, FaultProfile, parse

CONTROL_PATH = "/_local/faults"
TARGET_PREFIX = "DynamoDB_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
# How long an item counts as being written (by a transaction, for plain writes) for a conflict to strike it.
RECENT_SECONDS = 10.0
REGION = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/")

App = Callable[..., Iterable[bytes]]


class DynamoDBFaults:
    """WSGI middleware around moto's app."""

    def __init__(self, app: App, profile: FaultProfile | None = None) -> None:
        self._app = app
        self.profile = profile or FaultProfile()
        # (table, key) → when a write (any, or a transaction's) last touched the item
        self._written: dict[tuple[str, str], float] = {}
        self._transacted: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self._control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(TARGET_PREFIX) or not self.profile.enabled:
            return self._app(environ, start_response)
        operation = target.removeprefix(TARGET_PREFIX)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        region = REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
        if refusal := self._refusal(operation, json.loads(body or b"{}"), region.group(1) if region else "us-east-1"):
            return _answer(start_response, "400 Bad Request", refusal)
        # A batch of one is throttled or not (`throttles`): partly processed takes two or more.
        batch = operation in ("BatchWriteItem", "BatchGetItem") and _entries(json.loads(body)) > 1
        if batch and self.profile.fires("unprocessed-items"):
            return self._partly(operation, json.loads(body), environ, start_response)
        return self._app(environ, start_response)

    def _refusal(self, operation: str, request: dict[str, Any], region: str) -> dict[str, Any] | None:
        profile = self.profile
        now = time.monotonic()
        if operation == "TransactWriteItems":
            keys = [_item_key(region, entry) for entry in request.get("TransactItems", [])]
            busy = [n for n, key in enumerate(keys) if self._since(self._written, key, now)]
            if busy and profile.fires("conflicts"):  # another writer on one of its items
                culprit = profile.choice("conflicts").choice(busy)
                return _cancelled(len(keys), culprit, "TransactionConflict", "Transaction is ongoing for the item")
            if keys and profile.fires("throttles"):
                culprit = profile.choice("throttles").randrange(len(keys))
                message = "Throughput exceeds the current capacity of your table or index."
                return _cancelled(len(keys), culprit, "ThrottlingError", message)
            self._wrote(keys, now, transaction=True)
            return None
        if operation in WRITES:
            key = _item_key(region, {operation: request})
            if self._since(self._transacted, key, now) and profile.fires("conflicts"):
                # A plain write racing a transaction on the same item.
                return _error("TransactionConflictException", "Transaction is ongoing for the item")
        if (operation in WRITES or operation in READS or operation == "BatchWriteItem") and profile.fires("throttles"):
            return _throttled()
        if operation in WRITES:
            self._wrote([_item_key(region, {operation: request})], now)
        if operation == "BatchWriteItem":
            self._wrote(
                [
                    _item_key(
                        region, {"Put": {"TableName": table} | (entry.get("PutRequest") or entry["DeleteRequest"])}
                    )
                    for table, entries in request.get("RequestItems", {}).items()
                    for entry in entries
                ],
                now,
            )
        return None

    def _since(self, written: dict[tuple[str, str], float], key: tuple[str, str] | None, now: float) -> bool:
        with self._lock:
            return key is not None and now - written.get(key, -RECENT_SECONDS) < RECENT_SECONDS

    def _wrote(self, keys: list[tuple[str, str] | None], now: float, *, transaction: bool = False) -> None:
        with self._lock:
            for key in keys:
                if key is not None:
                    self._written[key] = now
                    if transaction:
                        self._transacted[key] = now
            if len(self._written) > 100_000:  # forget the old ones now and then
                for table in (self._written, self._transacted):
                    for old in [k for k, t in table.items() if now - t >= RECENT_SECONDS]:
                        del table[old]

    def _partly(
        self, operation: str, request: dict[str, Any], environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Forward the first half of the batch (by table) to moto; answer the rest as unprocessed."""
        kept: dict[str, Any] = {}
        unprocessed: dict[str, Any] = {}
        for table, asked in request["RequestItems"].items():
            entries = asked if operation == "BatchWriteItem" else asked["Keys"]
            half = len(entries) // 2
            if operation == "BatchWriteItem":
                kept[table], later = entries[:half], entries[half:]
                unprocessed[table] = later
            else:
                kept[table] = asked | {"Keys": entries[:half]}
                unprocessed[table] = asked | {"Keys": entries[half:]}
        kept = {t: v for t, v in kept.items() if (v if operation == "BatchWriteItem" else v["Keys"])}
        field = "UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"
        if not kept:  # one entry per table: the first table's is processed, the others' not
            first = next(iter(request["RequestItems"]))
            kept = {first: request["RequestItems"][first]}
            unprocessed = {table: entries for table, entries in unprocessed.items() if table != first}
        forwarded = json.dumps(request | {"RequestItems": kept}).encode()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(forwarded), str(len(forwarded))
        status, body = _call(self._app, environ)
        if not status.startswith("200 "):
            return _answer(start_response, status, json.loads(body))
        done = json.loads(body)
        return _answer(start_response, "200 OK", done | {field: _merged(done.get(field) or {}, unprocessed, operation)})

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            asked = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
            self.profile = FaultProfile(parse(asked.get("faults", "off")) & MOTO_FAULTS, int(asked.get("seed", 0)))
            self.profile.rates |= asked.get("rates", {})  # tests make a fault certain
        return _answer(start_response, "200 OK", {"enabled": sorted(self.profile.enabled)} | self.profile.counts())


def _entries(request: dict[str, Any]) -> int:
    """How many items a BatchWriteItem or BatchGetItem request asks for."""
    return sum(
        len(asked) if isinstance(asked, list) else len(asked.get("Keys", []))
        for asked in request.get("RequestItems", {}).values()
    )


def _item_key(region: str, entry: dict[str, Any]) -> tuple[str, str] | None:
    """(table, key) of a transaction's entry ({"Put": {...}}) or a plain write ({"PutItem": request})."""
    ((_, action),) = entry.items()
    table = action.get("TableName", "")
    key = action.get("Key")
    if key is None and "Item" in action:
        names = _key_names(region, table)
        key = {name: action["Item"].get(name) for name in names} if names else None
    return (table, json.dumps(key, sort_keys=True)) if key else None


def _key_names(region: str, table: str) -> list[str]:
    """The table's key attributes, from moto's backend in this process."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    try:
        described = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table)
    except Exception:  # an unknown table: moto answers ResourceNotFoundException itself
        return []
    return [name for name in (described.hash_key_attr, described.range_key_attr) if name]


def _merged(first: dict[str, Any], second: dict[str, Any], operation: str) -> dict[str, Any]:
    merged = dict(first)
    for table, entries in second.items():
        if operation == "BatchWriteItem":
            merged[table] = merged.get(table, []) + entries
        else:
            merged[table] = entries | {"Keys": merged.get(table, {}).get("Keys", []) + entries["Keys"]}
    return merged


def _cancelled(items: int, culprit: int, code: str, message: str) -> dict[str, Any]:
    reasons = [{"Code": code, "Message": message} if i == culprit else {"Code": "None"} for i in range(items)]
    listed = ", ".join(reason["Code"] for reason in reasons)
    return {
        "__type": f"{ERROR_PREFIX}TransactionCanceledException",
        "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]",
        "CancellationReasons": reasons,
    }


def _throttled() -> dict[str, Any]:
    return _error(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    )


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"__type": f"{ERROR_PREFIX}{kind}", "message": message}


def _call(app: App, environ: dict[str, Any]) -> tuple[str, bytes]:
    answered: dict[str, str] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        answered["status"] = status
        return lambda _: None

    result = app(environ, capture)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answered["status"], body


def _answer(start_response: Callable[..., Any], status: str, document: dict[str, Any]) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))])
    return [body]
