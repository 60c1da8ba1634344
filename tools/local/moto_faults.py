"""DynamoDB's refusals that moto never gives, injected in front of moto's server (see tools.local.faults).

Off until the stack turns them on (after provisioning and seeding): `POST /_local/faults` with
`{"faults": "aws", "seed": 7}` (and `"rates"` to change a fault's); `GET /_local/faults` answers what fired.
A refused request never reaches moto, so it changes nothing, as on DynamoDB; a batch's unprocessed part is kept
from moto and answered as unprocessed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from tools.local.faults import MOTO_FAULTS, FaultProfile, parse

CONTROL_PATH = "/_local/faults"
TARGET_PREFIX = "DynamoDB_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}

App = Callable[..., Iterable[bytes]]


class DynamoDBFaults:
    """WSGI middleware around moto's app."""

    def __init__(self, app: App, profile: FaultProfile | None = None) -> None:
        self._app = app
        self.profile = profile or FaultProfile()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self._control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(TARGET_PREFIX) or not self.profile.enabled:
            return self._app(environ, start_response)
        operation = target.removeprefix(TARGET_PREFIX)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        if refusal := self._refusal(operation, body):
            return _answer(start_response, "400 Bad Request", refusal)
        if operation in ("BatchWriteItem", "BatchGetItem") and self.profile.fires("unprocessed-items"):
            return self._partly(operation, json.loads(body), environ, start_response)
        return self._app(environ, start_response)

    def _refusal(self, operation: str, body: bytes) -> dict[str, Any] | None:
        profile = self.profile
        if operation == "TransactWriteItems":
            for fault, code, message in (
                ("conflicts", "TransactionConflict", "Transaction is ongoing for the item"),
                ("throttles", "ThrottlingError", "Throughput exceeds the current capacity of your table or index."),
            ):
                if profile.fires(fault):
                    items = json.loads(body).get("TransactItems", [])
                    return _cancelled(len(items), profile.choice(fault).randrange(max(1, len(items))), code, message)
            return None
        if operation in WRITES and profile.fires("conflicts"):
            # A plain write racing a transaction on the same item.
            return _error("TransactionConflictException", "Transaction is ongoing for the item")
        if (operation in WRITES or operation in READS or operation == "BatchWriteItem") and profile.fires("throttles"):
            return _throttled()
        return None

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
        if not kept:  # nothing of the batch could be processed: DynamoDB refuses it whole
            return _answer(start_response, "400 Bad Request", _throttled())
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
