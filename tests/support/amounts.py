"""Reading printed amounts back, by a route independent of the code under test: the exponent comes from the
iso4217 package, the digits are read as written (no Decimal context, whose 28 digits would round)."""

from __future__ import annotations

import re

import iso4217

AMOUNT = re.compile(r"(?<![\w.,-])(-?[0-9][0-9,]*(?:\.[0-9]+)?)\s([A-Z]{3})\b")


def exponent(currency: str) -> int:
    published = iso4217.Currency(currency).exponent
    assert published is not None, f"{currency} has no minor unit"
    return int(published)


def minor_units(printed: str) -> tuple[int, str]:
    """'-1,234.567 KWD' -> (-1234567, 'KWD'); fails unless it carries exactly its currency's decimals and its
    thousands are grouped by threes."""
    match = AMOUNT.fullmatch(printed)
    assert match, printed
    number, currency = match.groups()
    whole, _, decimals = number.lstrip("-").partition(".")
    assert len(decimals) == exponent(currency), f"{printed}: {currency} has {exponent(currency)} decimals"
    assert whole == f"{int(whole.replace(',', '')):,}", f"{printed}: thousands grouped by threes"
    magnitude = int(whole.replace(",", "") + decimals)
    return (-magnitude if number.startswith("-") else magnitude), currency


def amounts_in(text: str) -> list[tuple[int, str]]:
    """Every amount printed in `text`, in order, as minor units; one a narrow cell wrapped before its currency
    code still counts."""
    return [minor_units(" ".join(match.groups())) for match in AMOUNT.finditer(text)]
