"""An account's `updatedAt` is stored in UTC whatever the zone it came in and whatever the machine's own zone, and a
moment UTC cannot hold is refused with what the range is."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from dropshop.accounts.model import Account

RECORD = {"id": "acc-1", "name": "Ada", "email": "ada@example.com", "status": "active", "balanceCents": 1}


@pytest.fixture
def far_east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone set to UTC+9 (Lambda's is UTC; a developer's machine may be anywhere)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.usefixtures("far_east")
@pytest.mark.parametrize("moment", ["2026-11-24T12:00:00Z", "2026-11-24T13:00:00+01:00", "2026-11-24T07:00:00-05:00"])
def test_updated_at_is_utc_whatever_the_local_zone(moment: str) -> None:
    account = Account.model_validate(RECORD | {"updatedAt": moment})
    assert account.as_record()["updatedAt"] == "2026-11-24T12:00:00.000000Z"
    assert account.version.startswith("2026-11-24T12:00:00.000000Z#")


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_moment_utc_cannot_hold_is_refused_with_the_range(moment: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Account.model_validate(RECORD | {"updatedAt": moment})
    (error,) = refused.value.errors()
    assert error["loc"] == ("updatedAt",)
    assert error["msg"] == (
        "Value error, falls outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z once converted to UTC"
    )
