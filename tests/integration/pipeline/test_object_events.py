"""Object events as AWS sends them: keys as stored (EventBridge does not URL-encode them, so they must not be
decoded), and one event per version of an overwritten object, each read at the version it announces."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.accounts.model import Account
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.object_events import put
from tests.integration.pipeline.settled import current, stored
from tests.support.properties import budget
from tools.local.stack import Stack
from tools.local.wiring import Wiring


def account(n: int, updated_at: str, balance: int = 100) -> dict[str, object]:
    return {
        "id": f"acc-{n}",
        "name": "Ada",
        "email": f"user{n}@example.com",
        "status": "active",
        "balanceCents": balance,
        "updatedAt": updated_at,
    }


def reset(stack: Stack) -> None:
    dynamodb = stack.client("dynamodb")
    for table, key in (("AccountTable", ("accountId", "version")), ("FilesTable", ("fileId",))):
        for item in scan(stack, table):
            dynamodb.delete_item(TableName=stack.physical[table], Key={k: item[k] for k in key})


# What a URL decoder would change (`+`, `%xx`), spaces, and text beyond ASCII; S3 takes any UTF-8 key.
KEY_TEXT = st.text(
    st.sampled_from("+% &=?#~'()!,;@$") | st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
    min_size=1,
    max_size=30,
).filter(lambda name: name == unicodedata.normalize("NFC", name) and "/" not in name and name.strip() == name)


@budget(examples=15)
@given(name=KEY_TEXT)
@example(name="a+b")
@example(name="100%25 done")
@example(name="%E2%82%AC")
@example(name="Grüße + 50% €")
def test_any_key_reaches_the_registry_and_the_transformer_as_stored(stack: Stack, wiring: Wiring, name: str) -> None:
    reset(stack)
    key = f"incoming/{name}.json"
    record = account(1, "2026-11-24T12:00:00Z")
    results = dict(wiring.deliver(put(stack, key, json.dumps([record]).encode())))
    wiring.drain()

    assert None not in results.values(), f"an event was dead-lettered: {results}"
    (file,) = scan(stack, "FilesTable")
    assert (file["key"]["S"], file["status"]["S"]) == (key, "PROCESSED")
    assert stored(stack) == {(a.account_id, a.version) for a in [Account.model_validate(record)]}
    assert wiring.depth("PipelineEventsDLQ") == 0


def test_each_version_of_an_overwritten_file_is_ingested_as_it_was_uploaded(stack: Stack, wiring: Wiring) -> None:
    """S3 emits one event per PUT; the first may be handled after the second PUT: it must read its own bytes."""
    key = "incoming/accounts.json"
    first = [account(1, "2026-11-24T12:00:00Z", 100), account(2, "2026-11-24T12:00:00Z")]
    second = [account(1, "2026-11-24T13:00:00Z", 900), account(3, "2026-11-24T12:00:00Z"), {"id": "broken"}]
    older = put(stack, key, json.dumps(first).encode())
    newer = put(stack, key, json.dumps(second).encode())
    for event in (older, newer):  # the older event arrives once the key already holds the newer version
        wiring.deliver(event)
    wiring.drain()

    files = {f["etag"]["S"]: f for f in scan(stack, "FilesTable")}
    assert len(files) == 2, "one registry entry per version"
    for event, records in ((older, first), (newer, second)):
        announced = event["detail"]["object"]
        entry = files[announced["etag"]]
        assert entry["status"]["S"] == "PROCESSED", entry.get("reason")
        assert int(entry["recordsRead"]["N"]) == len(records)
        assert (int(entry["size"]["N"]), entry["versionId"]["S"]) == (announced["size"], announced["version-id"])
    valid = [Account.model_validate(r) for r in first + second[:2]]
    assert stored(stack) == {(a.account_id, a.version) for a in valid}
    newest = current(stack, "acc-1")
    assert newest is not None
    assert newest.balance_cents == 900, "the newest updatedAt wins, whatever file order"
    assert len(scan(stack, "LogTable")) == 1
    assert wiring.depth("PipelineEventsDLQ") == 0


def test_the_registry_keeps_each_versions_own_metadata(stack: Stack, wiring: Wiring) -> None:
    key = "uploads/team.csv"
    older = put(stack, key, b"id,name\n1,Ada\n", ContentType="text/csv")
    newer = put(stack, key, b"id,name\n1,Ada\n2,Grace\n3,Linus\n", ContentType="application/octet-stream")
    wiring.deliver(newer)
    wiring.deliver(older)  # handled after the overwrite

    files = {f["etag"]["S"]: f for f in scan(stack, "FilesTable")}
    old, new = (files[e["detail"]["object"]["etag"]] for e in (older, newer))
    assert (int(old["recordCount"]["N"]), old["contentType"]["S"]) == (1, "text/csv")
    assert (int(new["recordCount"]["N"]), new["contentType"]["S"]) == (3, "application/octet-stream")
    assert [f["versionId"]["S"] for f in (old, new)] == [e["detail"]["object"]["version-id"] for e in (older, newer)]
