"""AccountRepository against moto's DynamoDB (in-process): one item per account version, the newest version the
current state, what DynamoDB does not take handed back (moto never returns UnprocessedItems: tests.support.faults
makes it, as BatchWriteItem does under throttling,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dropshop.accounts.model import Account
from dropshop.accounts.repository import AccountRepository
from tests.support.dynamodb_semantics import StaleReads
from tests.support.faults import Faults
from tests.support.tables import create_declared_table

TABLE = "AccountTable"


@pytest.fixture
def dynamodb(aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        create_declared_table(client, "AccountTable", TABLE)
        yield client


def account(account_id: str = "acc-1", *, at: str = "2026-11-24T12:00:00Z", **fields: object) -> Account:
    record: dict[str, object] = {
        "id": account_id,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "status": "active",
        "balanceCents": 1250,
        "currency": "GBP",
        "updatedAt": at,
    }
    return Account.model_validate(record | fields)


def items(dynamodb: Any) -> list[dict[str, Any]]:
    return list(dynamodb.scan(TableName=TABLE)["Items"])


def test_an_account_is_stored_as_its_version_with_where_it_came_from(dynamodb: Any) -> None:
    before = datetime.now(UTC)
    ada = account()
    outcome = AccountRepository(dynamodb, TABLE).save_all([ada], source="s3://data/incoming/a.json")
    assert (outcome.unwritten, outcome.refused) == ([], [])
    (item,) = items(dynamodb)
    written_at = datetime.fromisoformat(item.pop("writtenAt")["S"])
    assert before <= written_at <= datetime.now(UTC)
    assert item == {
        "accountId": {"S": "acc-1"},
        "version": {"S": ada.version},
        "name": {"S": "Ada Lovelace"},
        "email": {"S": "ada@example.com"},
        "status": {"S": "active"},
        "balanceCents": {"N": "1250"},
        "currency": {"S": "GBP"},
        "updatedAt": {"S": "2026-11-24T12:00:00.000000Z"},
        "source": {"S": "s3://data/incoming/a.json"},
    }


def test_the_current_state_is_the_newest_version_whatever_the_order_of_writes(dynamodb: Any) -> None:
    accounts = AccountRepository(dynamodb, TABLE)
    newer = account(at="2026-11-24T12:00:00Z", balanceCents=900, status="suspended")
    older = account(at="2026-11-24T11:00:00Z", balanceCents=100)
    accounts.save_all([newer], source="api")
    accounts.save_all([older, older], source="api")  # later, and twice: history, not the current state
    assert accounts.current("acc-1") == newer
    assert len(items(dynamodb)) == 2
    assert accounts.current("acc-2") is None


def test_the_stored_versions_are_told_apart_from_the_new_ones(dynamodb: Any) -> None:
    accounts = AccountRepository(dynamodb, TABLE)
    # More than one BatchGetItem's 100 keys.
    saved = [account(f"acc-{n}") for n in range(130)]
    accounts.save_all(saved, source="api")
    unsaved = [account("acc-1", at="2026-11-25T00:00:00Z"), account("acc-999")]
    assert accounts.stored([*saved, *unsaved, saved[0]]) == set(saved)
    assert accounts.stored([]) == set()


def test_accounts_dynamodb_does_not_take_are_handed_back(dynamodb: Any) -> None:
    # A partition throttled for the whole run: its items come back unprocessed after every retry.
    Faults(unwritable=lambda item: item["accountId"]["S"] == "acc-hot").attach(dynamodb)
    hot, cool = account("acc-hot"), account("acc-cool")
    outcome = AccountRepository(dynamodb, TABLE).save_all([hot, cool, hot], source="api")
    assert outcome.unwritten == [hot]
    assert outcome.refused == []
    assert [item["accountId"]["S"] for item in items(dynamodb)] == ["acc-cool"]


def test_an_account_dynamodb_refuses_is_handed_back_with_the_reason(dynamodb: Any) -> None:
    # Beyond DynamoDB's 400 KB item (a name can only be 200 characters: built past the model, as a bug would).
    huge = account("acc-huge").model_copy(update={"name": "x" * 500_000})
    fine = account("acc-fine")
    outcome = AccountRepository(dynamodb, TABLE).save_all([huge, fine], source="api")
    assert outcome.unwritten == []
    ((refused, reason),) = outcome.refused
    assert refused is huge
    assert reason.startswith("ValidationException: ")
    assert [item["accountId"]["S"] for item in items(dynamodb)] == ["acc-fine"]


def test_stored_versions_are_read_consistently_through_unprocessed_keys(dynamodb: Any) -> None:
    accounts = AccountRepository(dynamodb, TABLE)
    saved = [account(f"acc-{n}") for n in range(3)]
    accounts.save_all(saved, source="api")
    reads = StaleReads(dynamodb)
    assert accounts.stored([*saved, account("acc-new")]) == set(saved)
    assert reads.calls == 2
