"""Products and money. Prices are integers in their ISO 4217 currency's minor unit (cents, yen, fils): no float
ever touches a price."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

from dropshop.catalog.currencies import CURRENCIES, MINOR_UNITS, format_amount
from dropshop.catalog.vat import VatCategory
from dropshop.platform.model import ApiModel, Name, Text


def _iso_4217(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code with a minor unit, such as EUR")
    return code


# For the API's readers: which codes do not have two decimals ("0: BIF CLP ...; 3: BHD ...; 4: CLF UYW").
_NOT_TWO_DECIMALS = "; ".join(
    f"{exponent}: {' '.join(sorted(code for code, of in MINOR_UNITS.items() if of == exponent))}"
    for exponent in sorted(set(MINOR_UNITS.values()) - {2})
)


Currency = Annotated[
    StrictStr,
    AfterValidator(_iso_4217),
    Field(
        description=(
            "An ISO 4217 code with a minor unit. Amounts in it have two decimals except, by exponent, "
            f"{_NOT_TWO_DECIMALS}."
        ),
        json_schema_extra={"enum": sorted(CURRENCIES)},
    ),
]
Category = Annotated[StrictStr, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
ProductId = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
MINOR_UNIT = (
    "An integer in the currency's ISO 4217 minor unit: 1250 is 12.50 EUR, 1,250 JPY (no decimals), "
    "1.250 KWD (three), 0.1250 CLF (four)."
)


class Money(ApiModel):
    amount: StrictInt = Field(ge=0, description=MINOR_UNIT)
    currency: Currency

    def times(self, quantity: int) -> Money:
        return Money(amount=self.amount * quantity, currency=self.currency)

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)


class Price(Money):
    """What one unit may cost; an order's totals (Money) may exceed it."""

    amount: StrictInt = Field(ge=0, le=100_000_000, description=MINOR_UNIT)


class ProductDraft(ApiModel):
    """What an admin sends to create or replace a product."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Enamel mug",
                    "description": "Holds 350 ml.",
                    "category": "kitchen",
                    "price": {"amount": 1250, "currency": "EUR"},
                    "stock": 40,
                }
            ]
        }
    )

    name: Annotated[Name, StringConstraints(max_length=200)]
    description: Annotated[Text, StringConstraints(max_length=4000)] = ""
    category: Category
    price: Price
    stock: StrictInt = Field(ge=0, le=1_000_000)
    vat_category: VatCategory = Field(
        default=VatCategory.STANDARD, description="The VAT rate it is sold under; prices include that VAT."
    )


class Product(ProductDraft):
    model_config = ConfigDict(json_schema_extra=None)  # the draft's example is not a product

    product_id: ProductId
    created_at: str
    updated_at: str


class ProductPage(ApiModel):
    items: list[Product]
    next_cursor: str | None = None
