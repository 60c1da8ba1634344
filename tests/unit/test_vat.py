"""VAT from VAT-inclusive prices: one rounding rule (per rate total, half up), exact to the cent."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.catalog import vat
from dropshop.catalog.vat import RATES, RateTotal, VatCategory

IRISH = RATES["IE"]
MAX_LINE = 100_000_000 * 100  # the largest price times the largest quantity an order line accepts

any_rate = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)
shop_rate = st.sampled_from(sorted(set(IRISH.values())))
cents = st.integers(min_value=-MAX_LINE * 25, max_value=MAX_LINE * 25)
line = st.tuples(
    st.sampled_from(list(VatCategory)),
    st.integers(min_value=0, max_value=100_000_000),  # unit price, as ProductDraft allows
    st.integers(min_value=1, max_value=100),  # quantity, as an order line allows
)
basket = st.lists(line, min_size=1, max_size=25)


def _exact_half(hundredths: int, odd: int) -> tuple[int, Decimal]:
    """A gross whose exact net is a half cent at rate `hundredths`/100 - 100 (a multiple of 32, so that the
    gross's factor 20,000 / gcd is odd): net = gross * 100 / (100 + rate) = odd_multiple / 2."""
    step = 20_000 // math.gcd(hundredths, 20_000)
    numerator = step * odd
    return numerator * hundredths // 20_000, Decimal(hundredths - 10_000) / 100


# Grosses whose net lands exactly on a half cent, at rates from 0 to 99.99 %: where half up and half even differ.
exact_halves = st.builds(
    _exact_half,
    st.integers(10_000 // 32 + 1, 19_999 // 32).map(lambda j: j * 32),
    st.integers(0, 10**6).map(lambda i: 2 * i + 1),
)


def assert_rounded_half_away_from_zero(net: int, exact: Decimal, gross: int) -> None:
    """The net is the exact net rounded half away from zero: within half a cent, and a half always rounds out."""
    distance = (Decimal(net) - exact) * (1 if gross >= 0 else -1)
    assert Decimal("-0.5") < distance <= Decimal("0.5")


def test_the_shops_rates_are_irelands() -> None:
    assert vat.rate(VatCategory.STANDARD) == Decimal("23")
    assert vat.rate(VatCategory.REDUCED) == Decimal("13.5")
    assert vat.rate(VatCategory.SECOND_REDUCED) == Decimal("9")
    assert vat.rate(VatCategory.ZERO) == Decimal("0")


def test_a_worked_example_at_each_irish_rate() -> None:
    assert vat.split(3750, Decimal("23")) == RateTotal(rate=Decimal("23"), net=3049, vat=701, gross=3750)
    assert vat.split(1000, Decimal("13.5")) == RateTotal(rate=Decimal("13.5"), net=881, vat=119, gross=1000)
    assert vat.split(1090, Decimal("9")) == RateTotal(rate=Decimal("9"), net=1000, vat=90, gross=1090)
    assert vat.split(1, Decimal("23")) == RateTotal(rate=Decimal("23"), net=1, vat=0, gross=1)


def test_an_exact_half_cent_rounds_away_from_zero() -> None:
    # 4 cents at 60 %: the net is exactly 2.5 cents. (No Irish rate ever lands on a half: 100 + rate is odd.)
    assert (vat.split(4, Decimal("60")).net, vat.split(4, Decimal("60")).vat) == (3, 1)
    assert (vat.split(-4, Decimal("60")).net, vat.split(-4, Decimal("60")).vat) == (-3, -1)


@given(gross=cents, rate=any_rate)
@example(gross=4, rate=Decimal("60"))
@example(gross=MAX_LINE * 25, rate=Decimal("99.99"))
@example(gross=-1, rate=Decimal("13.5"))
def test_net_plus_vat_is_the_gross_and_the_net_is_the_nearest_cent(gross: int, rate: Decimal) -> None:
    row = vat.split(gross, rate)
    assert row.net + row.vat == row.gross == gross
    assert_rounded_half_away_from_zero(row.net, Decimal(gross) * 100 / (100 + rate), gross)
    if gross >= 0:
        assert 0 <= row.vat <= row.gross
        assert 0 <= row.net <= row.gross
    if rate == 0:
        assert row.vat == 0


@given(half=exact_halves, negative=st.booleans())
@example(half=(4, Decimal("60")), negative=False)
def test_a_net_on_an_exact_half_cent_rounds_away_from_zero_never_to_even(
    half: tuple[int, Decimal], negative: bool
) -> None:
    gross, rate = half
    gross = -gross if negative else gross
    exact = Decimal(gross) * 100 / (100 + rate)
    assert exact % 1 in (Decimal("0.5"), Decimal("-0.5"))  # the strategy's promise: a half, exactly
    row = vat.split(gross, rate)
    assert row.net == exact + (Decimal("0.5") if gross > 0 else Decimal("-0.5"))
    assert row.vat == gross - row.net


@given(gross=cents, rate=any_rate)
def test_a_credit_mirrors_its_charge_to_the_cent(gross: int, rate: Decimal) -> None:
    charge, credit = vat.split(gross, rate), vat.split(-gross, rate)
    assert (credit.net, credit.vat, credit.gross) == (-charge.net, -charge.vat, -charge.gross)


@given(basket=basket)
@example(basket=[(VatCategory.STANDARD, 1, 1), (VatCategory.STANDARD, 1, 1), (VatCategory.STANDARD, 1, 1)])
def test_every_basket_breaks_down_per_rate_into_rows_that_add_up_to_its_total(
    basket: list[tuple[VatCategory, int, int]],
) -> None:
    amounts = [(vat.rate(category), price * quantity) for category, price, quantity in basket]
    rows = vat.breakdown(amounts)
    total = sum(gross for _, gross in amounts)
    assert sum(row.gross for row in rows) == total
    assert sum(row.net for row in rows) + sum(row.vat for row in rows) == total
    assert [row.rate for row in rows] == sorted({rate for rate, _ in amounts}, reverse=True)
    for row in rows:  # one row per rate: the rate's lines are summed first, then split once
        assert row == vat.split(sum(gross for rate, gross in amounts if rate == row.rate), row.rate)


@given(basket=basket)
def test_the_order_of_the_lines_does_not_change_the_breakdown(basket: list[tuple[VatCategory, int, int]]) -> None:
    amounts = [(vat.rate(category), price * quantity) for category, price, quantity in basket]
    assert vat.breakdown(amounts) == vat.breakdown(list(reversed(amounts)))


def test_rates_print_without_trailing_zeros() -> None:
    assert [vat.percent(rate) for rate in (Decimal("23"), Decimal("13.50"), Decimal("0.00"), Decimal("20"))] == [
        "23 %",
        "13.5 %",
        "0 %",
        "20 %",
    ]
