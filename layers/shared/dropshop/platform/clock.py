"""The time stamps commerce records (products, orders, events): UTC, ISO 8601, to the millisecond."""

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
