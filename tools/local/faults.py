"""AWS's weather for the local stack: the failures AWS documents and moto never shows, injected at low, seeded rates.

`python -m tools.local --faults aws` (`make local FAULTS=aws`) turns on the whole profile; `aws:-conflicts,-crashes`
is the profile without those; `throttles,timeouts` only those; `off` (the default) none. Each fault below is named
after what AWS documents, with the page that documents it. What fired is counted (`FaultProfile.counts`, shown on
the console and written to `.local/faults.json` by the stack) so a test can assert that it did.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

# name → how often it fires where it applies (1.0: always, a behaviour rather than an accident).
RATES: dict[str, float] = {
    # DynamoDB cancels a transaction for a concurrent transaction on one of its items (`TransactionConflict`), and
    # refuses a plain write to an item a transaction is writing (TransactionConflictException).
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
    "conflicts": 0.03,
    # Reads and writes throttled (ProvisionedThroughputExceededException, which the SDKs retry), transactions
    # cancelled with `ThrottlingError` (which they do not): a hot partition or a throttled index throttles its table.
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingThrottling.html
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html (CancellationReasons)
    "throttles": 0.02,
    # BatchWriteItem/BatchGetItem answer part of a batch as UnprocessedItems/UnprocessedKeys, to be retried.
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
    "unprocessed-items": 0.1,
    # Event source mappings deliver at least once: a handled message or stream batch comes again.
    # https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html ("at least once"; "might receive the same message
    # twice"), https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html ("at least once")
    "duplicates": 0.05,
    # A standard queue's message can come later than those sent after it (best-effort ordering).
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html
    "delays": 0.05,
    # Several batches per mapping in flight at once, records in no particular order within a batch, and streams read
    # in parallel per item key (order holds per item, not across items).
    # https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-scaling ("five batches at a time"),
    # https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (ParallelizationFactor: order per partition key)
    "reorder": 1.0,
    # An asynchronous invocation that fails is retried after 1 minute, then after 2 more, then sent to the
    # function's dead-letter queue or OnFailure destination (the delays divided by --faults-time-scale).
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    "async-retries": 1.0,
    # The template's Timeout: the invocation is stopped at it and counts as a function error.
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
    "timeouts": 1.0,
    # A worker that dies after its side effects, before it answers: the invocation is an error and is retried
    # (event sources and asynchronous invocations; an API's caller would see a 502).
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html
    "crashes": 0.02,
}
# Faults moto's server injects (tools.local.moto_faults); the others are the stack's own.
MOTO_FAULTS = frozenset({"conflicts", "throttles", "unprocessed-items"})
# AWS's asynchronous retry delays, in seconds.
ASYNC_RETRY_DELAYS = (60.0, 120.0)


class UnknownFault(ValueError):
    pass


def parse(spec: str) -> frozenset[str]:
    """`aws` (every fault), `aws:-a,-b` (every fault but a and b), `a,b` (only those), `off` or `` (none)."""
    spec = spec.strip()
    if spec in ("", "off", "none"):
        return frozenset()
    if spec == "aws" or spec.startswith("aws:"):
        removed = {name.strip().removeprefix("-") for name in spec[4:].split(",") if name.strip()}
        _known(removed)
        return frozenset(RATES) - removed
    chosen = {name.strip() for name in spec.split(",") if name.strip()}
    _known(chosen)
    return frozenset(chosen)


def _known(names: set[str]) -> None:
    if unknown := sorted(names - set(RATES)):
        raise UnknownFault(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(RATES)}")


@dataclass
class FaultProfile:
    """Which faults are on, their seeded dice, and what fired."""

    enabled: frozenset[str] = frozenset()
    seed: int = 0
    time_scale: float = 1.0  # AWS's delays divided by this (60: a minute takes a second)
    rates: dict[str, float] = field(default_factory=lambda: dict(RATES))
    fired: Counter[str] = field(default_factory=Counter)
    _dice: dict[str, random.Random] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_spec(cls, spec: str, *, seed: int = 0, time_scale: float = 1.0) -> FaultProfile:
        return cls(parse(spec), seed, time_scale)

    @property
    def spec(self) -> str:
        return ",".join(sorted(self.enabled)) or "off"

    def on(self, name: str) -> bool:
        return name in self.enabled

    def fires(self, name: str) -> bool:
        """Roll `name`'s die (each fault its own seeded die); a fault that fires is counted."""
        if name not in self.enabled:
            return False
        with self._lock:
            die = self._dice.setdefault(name, random.Random(f"{self.seed}:{name}"))  # noqa: S311 - fault dice
            fired = die.random() < self.rates[name]
        if fired:
            self.count(name)
        return fired

    def choice(self, name: str) -> random.Random:
        """`name`'s own die, for what a fault chooses once it fires (which item, how long)."""
        with self._lock:
            return self._dice.setdefault(name, random.Random(f"{self.seed}:{name}"))  # noqa: S311 - fault dice

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.fired[name] += n

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.fired)

    def delay(self, seconds: float) -> float:
        return seconds / self.time_scale


OFF = FaultProfile()
