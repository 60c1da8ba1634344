"""VAT: the rate category each product is sold under, the shop's country's rate for each (data, not code),
and the one rounding rule that splits a VAT-inclusive amount into its net amount and its VAT.

Prices are VAT-inclusive integers in their currency's minor unit (see currencies.py), so rounding to a whole
number is rounding to that currency's minor unit: the cent, the yen, the fils. Per rate, the gross total is
split once:
    net = round_half_up(gross * 100 / (100 + rate)),  vat = gross - net
so net + VAT = gross to the minor unit on every row, and the rows add up to the document's total. Half up
rounds away from zero, so a credit note (negative amounts) mirrors its invoice exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from dropshop.platform.shop import SHOP


class VatCategory(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    SECOND_REDUCED = "second_reduced"
    ZERO = "zero"


# Percent. A country the shop registers in is one more entry; a rate change is an edit here, and orders
# placed before it keep the rate they were placed at (each order line carries its own).
RATES: dict[str, dict[VatCategory, Decimal]] = {
    "IE": {
        VatCategory.STANDARD: Decimal("23"),
        VatCategory.REDUCED: Decimal("13.5"),
        VatCategory.SECOND_REDUCED: Decimal("9"),
        VatCategory.ZERO: Decimal("0"),
    },
}

# A rate as documents carry it: a percentage with at most two decimals (JSON: a string, "13.5").
VatRate = Annotated[Decimal, Field(ge=0, lt=100, max_digits=4, decimal_places=2)]


def rate(category: VatCategory, country: str = SHOP.country) -> Decimal:
    return RATES[country][category]


@dataclass(frozen=True)
class RateTotal:
    """One row of a document's VAT breakdown: everything sold at `rate`, in minor units (negative on a credit note)."""

    rate: Decimal
    net: int
    vat: int
    gross: int


def split(gross: int, rate: Decimal) -> RateTotal:
    """The VAT inside a VAT-inclusive `gross` (minor units) at `rate` percent, by the rounding rule above."""
    with localcontext() as exact:
        exact.prec = 50  # far beyond any total's digits: the quotient is rounded once, by quantize
        net = int((Decimal(gross) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return RateTotal(rate=rate, net=net, vat=gross - net, gross=gross)


def breakdown(amounts: Iterable[tuple[Decimal, int]]) -> list[RateTotal]:
    """(rate, gross minor units) pairs summed per rate, then split: the rows an EU invoice shows, highest rate first."""
    per_rate: dict[Decimal, int] = {}
    for vat_rate, gross in amounts:
        per_rate[vat_rate] = per_rate.get(vat_rate, 0) + gross
    return [split(gross, vat_rate) for vat_rate, gross in sorted(per_rate.items(), reverse=True)]


def percent(rate: Decimal) -> str:
    """23 %, 13.5 %, 0 %: how documents print a rate."""
    return f"{rate.normalize():f} %"
