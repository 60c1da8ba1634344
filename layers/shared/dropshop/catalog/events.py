"""What the catalog announces. Stock moved by orders is not announced here: OrderPlaced and
OrderStatusChanged (to CANCELLED) already say it."""

from __future__ import annotations

from enum import StrEnum

from dropshop.catalog.model import Product
from dropshop.platform.bus import DomainEvent

SOURCE = "catalog"


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


def product_changed(product: Product, change: Change) -> DomainEvent:
    return DomainEvent(
        type="ProductChanged",
        source=SOURCE,
        data={"change": change.value, "product": product.model_dump(mode="json")},
    )
