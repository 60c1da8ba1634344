"""Why an account record is refused, in the words the error log keeps (found by `make mutate`): each timestamp
refusal says what to send, and a field of the wrong JSON type is a validation error naming it, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dropshop.accounts.model import Account

VALID: dict[str, Any] = {
    "id": "acc-1",
    "name": "Jane Doe",
    "email": "jane@example.com",
    "status": "active",
    "balanceCents": 1050,
    "currency": "EUR",
    "updatedAt": "2026-11-24T13:00:00+01:00",
}


def refusal(change: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | change)
    (error,) = invalid.value.errors()
    return dict(error)


@pytest.mark.parametrize(
    ("updated_at", "reason"),
    [
        (1732449600, "must be an ISO 8601 string with a timezone, e.g. 2026-11-24T12:00:00Z"),
        ("yesterday", "is not an ISO 8601 timestamp, e.g. 2026-11-24T12:00:00Z"),
        ("2026-11-24T12:00:00", "timestamp must carry a timezone, e.g. 2026-11-24T12:00:00Z"),
    ],
)
def test_each_timestamp_refusal_says_what_to_send(updated_at: object, reason: str) -> None:
    error = refusal({"updatedAt": updated_at})
    assert error["loc"] == ("updatedAt",)
    assert error["msg"] == f"Value error, {reason}"


def test_a_timestamp_with_surrounding_blanks_is_read() -> None:
    assert Account.model_validate(VALID | {"updatedAt": " 2026-11-24T12:00:00Z\t"}).as_record()["updatedAt"] == (
        "2026-11-24T12:00:00.000000Z"
    )


@pytest.mark.parametrize(("field", "value"), [("email", 42), ("status", 1), ("currency", 978), ("email", None)])
def test_a_field_of_the_wrong_json_type_is_refused_naming_it(field: str, value: object) -> None:
    assert refusal({field: value})["loc"] == (field,)
