"""AccountTable: one item per account version (pk accountId, sk version), written in batches.

Versions make the writes idempotent without conditions, which BatchWriteItem cannot carry: a redelivered
record rewrites its own item, and an older record adds history instead of overwriting a newer state.
The current state of an account is its newest version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dropshop.accounts.model import Account
from dropshop.platform.dynamodb import BatchWriteOutcome, Item, batch_put


@dataclass
class SaveOutcome:
    unwritten: list[Account] = field(default_factory=list)  # DynamoDB did not take them yet: try again later
    refused: list[tuple[Account, str]] = field(default_factory=list)  # DynamoDB never will, and why


class AccountRepository:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def save_all(self, accounts: Sequence[Account], *, source: str) -> SaveOutcome:
        """Write every account; say which DynamoDB would not take after retries, and which it refuses."""
        written_at = datetime.now(UTC).isoformat()
        by_key = {(a.account_id, a.version): a for a in accounts}
        outcome: BatchWriteOutcome = batch_put(
            self._dynamodb, self._table, (self._item(a, source, written_at) for a in by_key.values())
        )

        def account(item: Item) -> Account:
            return by_key[(item["accountId"]["S"], item["version"]["S"])]

        return SaveOutcome(
            unwritten=[account(item) for item in outcome.unwritten],
            refused=[(account(item), reason) for item, reason in outcome.refused],
        )

    def current(self, account_id: str) -> Account | None:
        response = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="accountId = :id",
            ExpressionAttributeValues={":id": {"S": account_id}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        return self._account(items[0]) if items else None

    def stored(self, accounts: Sequence[Account]) -> set[Account]:
        """Those of `accounts` whose version is already in the table (an earlier attempt wrote them)."""
        by_key = {(a.account_id, a.version): a for a in accounts}
        keys = list(by_key)
        found: set[Account] = set()
        for start in range(0, len(keys), 100):  # BatchGetItem's limit
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [{"accountId": {"S": k[0]}, "version": {"S": k[1]}} for k in keys[start : start + 100]],
                    "ProjectionExpression": "accountId, version",
                    # Strongly consistent: a write acknowledged a moment ago by another delivery must count.
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._dynamodb.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    found.add(by_key[(item["accountId"]["S"], item["version"]["S"])])
                request = response.get("UnprocessedKeys") or {}
        return found

    @staticmethod
    def _item(account: Account, source: str, written_at: str) -> Item:
        record = account.as_record()
        return {
            "accountId": {"S": account.account_id},
            "version": {"S": account.version},
            "name": {"S": account.name},
            "email": {"S": account.email},
            "status": {"S": account.status},
            "balanceCents": {"N": str(account.balance_cents)},
            "currency": {"S": account.currency},
            "updatedAt": {"S": str(record["updatedAt"])},
            "source": {"S": source},
            "writtenAt": {"S": written_at},
        }

    @staticmethod
    def _account(item: Item) -> Account:
        return Account.model_validate(
            {
                "id": item["accountId"]["S"],
                "name": item["name"]["S"],
                "email": item["email"]["S"],
                "status": item["status"]["S"],
                "balanceCents": int(item["balanceCents"]["N"]),
                "currency": item["currency"]["S"],
                "updatedAt": item["updatedAt"]["S"],
            }
        )
