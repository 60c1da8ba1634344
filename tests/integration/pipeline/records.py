"""Account records for pipeline tests, each labelled with whether the pipeline must accept it."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dropshop.accounts.model import Account

START = datetime(2026, 11, 24, tzinfo=UTC)

# Each way a record can be wrong, as a change to a valid one.
BREAKAGES: list[tuple[str, Any]] = [
    ("email", lambda r: r | {"email": "not-an-email"}),
    ("id", lambda r: {k: v for k, v in r.items() if k != "id"}),
    ("status", lambda r: r | {"status": "deleted"}),
    ("balanceCents", lambda r: r | {"balanceCents": 12.5}),
    ("balanceCents", lambda r: r | {"balanceCents": "100"}),
    ("updatedAt", lambda r: r | {"updatedAt": "2026-11-24T12:00:00"}),  # no timezone
    ("name", lambda r: r | {"name": "   "}),
]
# In a file, a record that is not an object is refused; POST /writer reads a JSON array as a batch.
FILE_ONLY_BREAKAGES = [("record", lambda r: [r])]


@dataclass(frozen=True)
class Sample:
    record: Any
    valid: bool

    @property
    def key(self) -> tuple[str, str]:
        account = Account.model_validate(self.record)
        return account.account_id, account.version


def samples(
    count: int, *, invalid_share: float, accounts: int, seed: int, breakages: list[tuple[str, Any]] = BREAKAGES
) -> list[Sample]:
    """`count` records over `accounts` ids (so ids repeat with other versions), some repeated verbatim."""
    rng = random.Random(seed)  # noqa: S311 - test data
    made: list[Sample] = []
    for i in range(count):
        if made and rng.random() < 0.03:  # a verbatim repeat: the same version arrives twice
            made.append(rng.choice(made))
            continue
        record = {
            "id": f"acc-{rng.randrange(accounts):05d}",
            "name": f"  Customer {i} ",
            "email": f"Customer.{i}@Example.com",
            "status": rng.choice(["active", "ACTIVE", "suspended", "closed"]),
            "balanceCents": rng.randrange(-100_000, 10_000_000),
            "currency": rng.choice(["eur", "USD"]),
            "updatedAt": (START + timedelta(seconds=rng.randrange(86_400))).isoformat(),
        }
        if rng.random() < invalid_share:
            _, breakage = rng.choice(breakages)
            made.append(Sample(breakage(record), valid=False))
        else:
            made.append(Sample(record, valid=True))
    return made


def json_array(items: list[Sample]) -> bytes:
    return json.dumps([s.record for s in items]).encode()


def ndjson(items: list[Sample]) -> bytes:
    """One record a line; a Sample whose record is a str is written as that raw (broken) line."""
    lines = (s.record if isinstance(s.record, str) else json.dumps(s.record) for s in items)
    return "\n".join(lines).encode() + b"\n"


def broken_line(text: str) -> Sample:
    return Sample(text, valid=False)
