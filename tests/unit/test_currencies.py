"""The catalog's currency table is ISO 4217's list of actual money with each currency's minor unit, as the
maintained package publishes it, and every amount prints with exactly its currency's decimals."""

from __future__ import annotations

import iso4217
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from dropshop.catalog.currencies import CURRENCIES, MINOR_UNITS, format_amount
from dropshop.catalog.model import Money, Price, ProductDraft
from dropshop.invoicing.model import LARGEST, Amount
from tests.support.amounts import minor_units

NOT_MONEY = sorted(currency.code for currency in iso4217.Currency if currency.exponent is None)
EXPONENTS = sorted(set(MINOR_UNITS.values()))
currencies = st.sampled_from(sorted(CURRENCIES))
# Far beyond any total the shop can reach (and past 2**63): integer arithmetic keeps every digit.
amounts = st.integers(min_value=-(10**40), max_value=10**40)


def test_the_table_holds_every_iso_4217_currency_with_a_minor_unit_and_its_exponent() -> None:
    published = {currency.code: currency.exponent for currency in iso4217.Currency if currency.exponent is not None}
    assert published == MINOR_UNITS
    assert set(MINOR_UNITS) == CURRENCIES
    assert (MINOR_UNITS["EUR"], MINOR_UNITS["JPY"], MINOR_UNITS["KWD"], MINOR_UNITS["CLF"]) == (2, 0, 3, 4)
    assert EXPONENTS == [0, 2, 3, 4]


def test_codes_without_a_minor_unit_are_not_in_the_table() -> None:
    assert {"XAU", "XAG", "XDR", "XTS", "XXX"} <= set(NOT_MONEY)
    assert not set(NOT_MONEY) & CURRENCIES


@pytest.mark.parametrize("code", NOT_MONEY)
def test_every_code_without_a_minor_unit_is_refused_as_a_price_an_amount_and_a_product(code: str) -> None:
    for model in (Money, Price, Amount):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({"amount": 100, "currency": code})
        assert [problem["loc"] for problem in refused.value.errors()] == [("currency",)]
    draft = {"name": "Ingot", "category": "metals", "price": {"amount": 100, "currency": code}, "stock": 1}
    with pytest.raises(ValidationError) as refused:
        ProductDraft.model_validate(draft)
    assert [problem["loc"] for problem in refused.value.errors()] == [("price", "currency")]


@pytest.mark.parametrize(
    ("amount", "currency", "printed"),
    [
        (1000, "JPY", "1,000 JPY"),
        (0, "JPY", "0 JPY"),
        (-1250, "JPY", "-1,250 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (-1, "KWD", "-0.001 KWD"),
        (1_000_000, "BHD", "1,000.000 BHD"),
        (1, "CLF", "0.0001 CLF"),
        (12_345_678, "UYW", "1,234.5678 UYW"),
        (1250, "EUR", "12.50 EUR"),
        (5, "EUR", "0.05 EUR"),
        (-123_456_78, "USD", "-123,456.78 USD"),
        (0, "EUR", "0.00 EUR"),
        (2**63 + 1, "JPY", "9,223,372,036,854,775,809 JPY"),
    ],
)
def test_an_amount_prints_with_its_currencys_decimals(amount: int, currency: str, printed: str) -> None:
    assert format_amount(amount, currency) == printed


@given(amount=amounts, currency=currencies)
@example(amount=10**40, currency="CLF")
@example(amount=-(10**40) + 1, currency="JPY")
@example(amount=-1, currency="CLF")
def test_every_printed_amount_reads_back_to_the_same_minor_units(amount: int, currency: str) -> None:
    assert minor_units(format_amount(amount, currency)) == (amount, currency)


@given(amount=st.integers(min_value=0, max_value=LARGEST), currency=currencies)
@example(amount=LARGEST, currency="CLF")
def test_money_and_document_amounts_print_through_the_one_function(amount: int, currency: str) -> None:
    assert str(Money(amount=amount, currency=currency)) == format_amount(amount, currency)
    assert str(Amount(amount=amount, currency=currency)) == format_amount(amount, currency)
    assert str(Amount(amount=-amount, currency=currency)) == format_amount(-amount, currency)


def test_a_refused_currency_is_told_what_the_shop_accepts() -> None:
    """The 422's message for the field: which codes are money here, with an example."""
    with pytest.raises(ValidationError) as refused:
        Money.model_validate({"amount": 100, "currency": "XAU"})
    assert [problem["msg"] for problem in refused.value.errors()] == [
        "Value error, must be an ISO 4217 currency code with a minor unit, such as EUR"
    ]
