"""The suite ran under AWS's weather: the faults of the profile it started with did fire (last in the suite, so
the journeys before it are what they fired on; alone, it makes its own traffic until they have)."""

from __future__ import annotations

import json
import time
import uuid

from tests.e2e.conftest import E2E_FAULTS, Client
from tools.local.faults import parse
from tools.local.server import LocalStack

# What the journeys make happen often enough for every one of these to fire. Not here: `timeouts` and
# `async-retries` (they fire only when a function is slow or an asynchronous invocation fails; tests/local
# shows both).
EXPECTED = {
    "throttles",
    "conflicts",
    "unprocessed-items",
    "duplicates",
    "delays",
    "reorder",
    "crashes",
}


def test_the_faults_of_the_profile_fired_during_the_suite(local: LocalStack, api: Client, machine_token: str) -> None:
    expected = EXPECTED & parse(E2E_FAULTS)
    assert local.stack is not None
    s3 = local.stack.client("s3")
    deadline = time.monotonic() + 120
    while (
        not expected <= {name for name, count in local.fault_counts().items() if count} and time.monotonic() < deadline
    ):
        key = f"incoming/weather {uuid.uuid4().hex[:6]}.ndjson"  # a key S3 notifications would encode
        for version in range(2):  # an overwrite: two versions, two events
            record = {
                "id": f"acc-weather-{version}",
                "email": "w@example.com",
                "updatedAt": f"2026-11-24T12:00:0{version}Z",
            }
            s3.put_object(Bucket=local.stack.physical["DataBucket"], Key=key, Body=json.dumps(record).encode())
        # An array of records: the Writer reads and writes them in batches (BatchGetItem, BatchWriteItem).
        records = [
            {
                "id": f"acc-weather-{uuid.uuid4().hex[:8]}",
                "name": "Weather",
                "email": "w@example.com",
                "status": "active",
                "balanceCents": n,
                "updatedAt": "2026-11-24T12:00:00Z",
            }
            for n in range(25)
        ]
        api.request("POST", "/writer", token=machine_token, body=records)
        time.sleep(2)
    fired = local.fault_counts()
    assert expected <= {name for name, count in fired.items() if count}, fired
