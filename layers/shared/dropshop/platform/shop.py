"""Who the shop is, as invoices and e-mails name it; a second legal entity would make this configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shop:
    name: str
    address: tuple[str, ...]
    vat_id: str
    country: str  # ISO 3166-1 alpha-2: whose VAT rates apply (dropshop/catalog/vat.py)


SHOP = Shop(
    name="Drop Shop Ltd", address=("1 Market Street", "Dublin D02 XY00", "Ireland"), vat_id="IE1234567X", country="IE"
)
