"""The catalog's currency table is ISO 4217's list of actual money, as the maintained package publishes it."""

import iso4217

from dropshop.catalog.currencies import CURRENCIES


def test_the_table_holds_every_iso_4217_currency_with_a_minor_unit_and_nothing_else() -> None:
    published = {currency.code for currency in iso4217.Currency if currency.exponent is not None}
    assert published == CURRENCIES
    assert {"EUR", "USD", "JPY", "CHF"} <= CURRENCIES
    assert not {"XXX", "XTS", "XAU"} & CURRENCIES
