"""The Account record: what is accepted, how it is normalised, what makes a version."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dropshop.accounts.model import Account

VALID: dict[str, Any] = {
    "id": "acc-1",
    "name": "  Jane Doe ",
    "email": " Jane.Doe@Example.COM ",
    "status": "ACTIVE",
    "balanceCents": 1050,
    "currency": "eur",
    "updatedAt": "2026-11-24T13:00:00+01:00",
}


def test_records_are_trimmed_lower_cased_and_timestamps_made_utc() -> None:
    assert Account.model_validate(VALID).as_record() == {
        "id": "acc-1",
        "name": "Jane Doe",
        "email": "jane.doe@example.com",
        "status": "active",
        "balanceCents": 1050,
        "currency": "EUR",
        "updatedAt": "2026-11-24T12:00:00.000000Z",
    }


def test_currency_defaults_to_euro_and_unknown_fields_are_dropped() -> None:
    record = {k: v for k, v in VALID.items() if k != "currency"} | {"nickname": "jd"}
    account = Account.model_validate(record)
    assert account.currency == "EUR"
    assert "nickname" not in account.as_record()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"status": "deleted"}, "status"),
        ({"balanceCents": 10.5}, "balanceCents"),
        ({"balanceCents": "10"}, "balanceCents"),
        ({"balanceCents": 10**16}, "balanceCents"),
        ({"updatedAt": "2026-11-24T12:00:00"}, "updatedAt"),
        ({"updatedAt": "yesterday"}, "updatedAt"),
        ({"id": "has spaces"}, "id"),
        ({"name": "   "}, "name"),
        ({"currency": "euro"}, "currency"),
    ],
)
def test_invalid_fields_are_named_in_the_error(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | change)
    assert [error["loc"][0] for error in invalid.value.errors()] == [field]


def test_equal_records_share_a_version_and_later_states_sort_later() -> None:
    first = Account.model_validate(VALID)
    again = Account.model_validate(VALID | {"email": "JANE.DOE@example.com"})  # normalises to the same record
    later = Account.model_validate(VALID | {"updatedAt": "2026-11-24T12:00:01Z"})
    assert first.version == again.version
    assert later.version > first.version


def test_two_states_at_the_same_instant_keep_distinct_versions() -> None:
    one = Account.model_validate(VALID)
    other = Account.model_validate(VALID | {"balanceCents": 1})
    assert one.version != other.version
    assert one.version.split("#")[0] == other.version.split("#")[0]
