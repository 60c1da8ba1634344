"""The local stack's moto server gives DynamoDB's item atomicity: a read never sees half a write.

moto creates the item of an UpdateItem on a new key before it applies the update expression; without the
server's lock, a GetItem racing it finds the key with none of the attributes the update sets (the cause of
a `KeyError: 'last'` in the credit-note numbering race, a moto-only failure).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tools.local.moto_server import moto_server

KEYS = 30
# A long update expression widens moto's window between creating the item and filling it in.
FILLER = ", ".join(f"a{n} = :one" for n in range(40))


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_server() as endpoint:
        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(
            TableName="counters",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_a_read_racing_an_update_that_creates_the_item_sees_all_of_it_or_nothing(dynamodb: Any) -> None:
    half_seen: list[dict[str, Any]] = []
    done = threading.Event()

    writing = [0]  # the key being created now: what the readers watch

    def read() -> None:
        while not done.is_set():
            item = dynamodb.get_item(TableName="counters", Key={"id": {"S": str(writing[0])}}).get("Item")
            if item is not None and "last" not in item:
                half_seen.append(item)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for key in range(KEYS):
            writing[0] = key
            dynamodb.update_item(
                TableName="counters",
                Key={"id": {"S": str(key)}},
                UpdateExpression=f"SET {FILLER}, #last = :one",
                ConditionExpression="attribute_not_exists(id)",
                ExpressionAttributeNames={"#last": "last"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert half_seen == []
