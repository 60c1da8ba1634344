"""The Account record: what is accepted, how it is normalised, what makes a version."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from dropshop.accounts.model import Account
from tests.support.properties import budget

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


@pytest.mark.parametrize(
    "updated_at",
    [1732449600, 1732449600.5, "1732449600", True, None, "2026-11-24", "yesterday"],
)
def test_updated_at_must_be_an_iso_8601_string_with_a_timezone(updated_at: object) -> None:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | {"updatedAt": updated_at})
    assert [error["loc"][0] for error in invalid.value.errors()] == ["updatedAt"]


@pytest.mark.parametrize("updated_at", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_timestamp_beyond_the_calendar_in_utc_is_refused_naming_the_field(updated_at: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | {"updatedAt": updated_at})
    (error,) = invalid.value.errors()
    assert error["loc"] == ("updatedAt",)
    assert "outside 0001-01-01" in error["msg"]


@pytest.mark.parametrize("balance", [True, False, 10.0, "10", None, [10]])
def test_balance_cents_must_be_a_true_integer(balance: object) -> None:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | {"balanceCents": balance})
    assert [error["loc"][0] for error in invalid.value.errors()] == ["balanceCents"]


def test_text_with_an_unpaired_surrogate_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | {"name": "Jane \ud800"})
    assert [error["loc"][0] for error in invalid.value.errors()] == ["name"]


def test_years_below_1000_keep_four_digits_and_sort_before_later_years() -> None:
    old = Account.model_validate(VALID | {"updatedAt": "0999-06-01T00:00:00Z"})
    recent = Account.model_validate(VALID | {"updatedAt": "2026-11-24T12:00:00Z"})
    assert old.as_record()["updatedAt"] == "0999-06-01T00:00:00.000000Z"
    assert old.version < recent.version


# Any instant from 0001-01-01 to 9999-12-31 in UTC, written with any offset that keeps it in the calendar.
OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@budget(500)
@given(INSTANTS, INSTANTS, OFFSETS, OFFSETS)
@example(datetime(999, 6, 1, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC), UTC, UTC)
@example(datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC), timezone(timedelta(hours=-23)), UTC)
def test_versions_sort_as_time_does_for_every_timestamp_and_offset(
    first: datetime, second: datetime, first_offset: timezone, second_offset: timezone
) -> None:
    one = Account.model_validate(VALID | {"updatedAt": first.astimezone(first_offset).isoformat()})
    other = Account.model_validate(VALID | {"updatedAt": second.astimezone(second_offset).isoformat()})
    if first < second:
        assert one.version < other.version
    elif first > second:
        assert one.version > other.version
    else:
        assert one.version == other.version


# The REST API's text rule holds for records too (issue 24): a counter-example for each kind of character.
@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\u0085", "\u200b", "\u202e", "\ufeff"])
@pytest.mark.parametrize("field", ["name", "email"])
def test_text_with_a_control_or_format_character_is_refused_naming_the_field(character: str, field: str) -> None:
    text = {"name": f"Jane{character}Doe", "email": f"jane{character}doe@example.com"}[field]
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | {field: text})
    assert [error["loc"][0] for error in invalid.value.errors()] == [field]


@budget(300)
@given(st.text(alphabet=st.characters(categories=["Cc", "Cf"]), min_size=1, max_size=3), st.text(max_size=20))
def test_a_name_holding_any_control_or_format_character_is_never_accepted(unprintable: str, around: str) -> None:
    with pytest.raises(ValidationError) as invalid:
        Account.model_validate(VALID | {"name": f"Jane {around[:10]}{unprintable}{around[10:]} Doe"})
    assert {error["loc"][0] for error in invalid.value.errors()} == {"name"}


def test_names_with_letters_of_any_script_and_inner_spaces_are_kept() -> None:
    for name in ["Zoë Ødegård", "山田 太郎", "Ada\u00a0Lovelace", "O'Brien-Smith"]:
        assert Account.model_validate(VALID | {"name": name}).name == name


# Stored keys depend on the version's digest: these were computed by the code before issue 23's speed-up
# (model_dump + json.dumps per call), and must never change, or a redelivered record would add a second item.
@pytest.mark.parametrize(
    ("record", "version"),
    [
        (VALID, "2026-11-24T12:00:00.000000Z#607bcc7e38790e9d"),
        (
            {
                "id": "acc-2",
                "name": "Zoë 山田",
                "email": "zoë@example.com",
                "status": "closed",
                "balanceCents": -5,
                "updatedAt": "0999-06-01T00:00:00.5-03:00",
            },
            "0999-06-01T03:00:00.500000Z#20620a8de164bec2",
        ),
    ],
)
def test_versions_are_those_already_stored(record: dict[str, Any], version: str) -> None:
    assert Account.model_validate(record).version == version


@budget(200)
@given(
    st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P", "S"]), min_size=1, max_size=30),
    st.integers(min_value=-(10**15), max_value=10**15),
    INSTANTS,
    OFFSETS,
)
def test_a_version_is_the_digest_of_the_sorted_json_record(
    name: str, balance: int, instant: datetime, offset: timezone
) -> None:
    record = VALID | {"name": name, "balanceCents": balance, "updatedAt": instant.astimezone(offset).isoformat()}
    try:
        account = Account.model_validate(record)
    except ValidationError:
        return  # a name of spaces alone
    normalised = account.as_record()
    digest = hashlib.sha256(json.dumps(normalised, sort_keys=True).encode()).hexdigest()[:16]
    assert account.version == f"{normalised['updatedAt']}#{digest}"
    assert Account.model_validate(normalised) == account  # the normalised record reads back as itself
