"""ProductsTable: one item per product (pk productId), listed by category through the byCategory index.

Prices are stored flat (priceAmount, currency) so an order's transaction can check the price it quoted.
"""

from __future__ import annotations

from typing import Any

from dropshop.catalog.model import Money, Price, Product
from dropshop.catalog.vat import VatCategory
from dropshop.platform.bus import DomainEvent, outbox_put
from dropshop.platform.dynamodb import TransactionCancelled, batch_get, transact_write
from dropshop.platform.pagination import read_page


class ProductRepository:
    def __init__(self, dynamodb: Any, table: str, outbox_table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._outbox = outbox_table

    def get(self, product_id: str) -> Product | None:
        item = self._dynamodb.get_item(TableName=self._table, Key=_key(product_id)).get("Item")
        return _product(item) if item else None

    def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        """Strongly consistent: what an order is priced from must be what its transaction checks."""
        items = batch_get(self._dynamodb, self._table, [_key(i) for i in product_ids], consistent=True)
        return {product.product_id: product for product in map(_product, items)}

    def page(self, *, category: str | None, limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if category:
            request |= {
                "IndexName": "byCategory",
                "KeyConditionExpression": "category = :category",
                "ExpressionAttributeValues": {":category": {"S": category}},
            }
            key_attributes = {"productId", "category", "name"}
        else:
            key_attributes = {"productId"}
        read = self._dynamodb.query if category else self._dynamodb.scan
        items, next_cursor = read_page(read, request, cursor=cursor, key_attributes=key_attributes)
        return [_product(item) for item in items], next_cursor

    def add(self, product: Product, event: DomainEvent) -> bool:
        """False when the id is taken."""
        return self._write(
            {"Put": {"TableName": self._table, "Item": _item(product), "ConditionExpression": _EXISTS_NOT}}, event
        )

    def replace(self, product: Product, event: DomainEvent) -> bool:
        """False when there is no such product (any more)."""
        return self._write(
            {"Put": {"TableName": self._table, "Item": _item(product), "ConditionExpression": _EXISTS}}, event
        )

    def remove(self, product_id: str, event: DomainEvent) -> bool:
        return self._write(
            {"Delete": {"TableName": self._table, "Key": _key(product_id), "ConditionExpression": _EXISTS}}, event
        )

    def reserve_stock(
        self, product_id: str, quantity: int, unit_price: Money, vat_category: VatCategory
    ) -> dict[str, Any]:
        """A transaction entry that takes `quantity` from stock, if there is that much and the price and the VAT
        category the order was priced at still hold."""
        # A product stored before VAT categories has none, and is sold at the standard rate (see _product).
        vat_holds = "vatCategory = :vat"
        if vat_category is VatCategory.STANDARD:
            vat_holds = f"({vat_holds} OR attribute_not_exists(vatCategory))"
        return {
            "Update": {
                "TableName": self._table,
                "Key": _key(product_id),
                "UpdateExpression": "SET stock = stock - :quantity",
                "ConditionExpression": (
                    f"{_EXISTS} AND stock >= :quantity AND priceAmount = :amount AND currency = :currency"
                    f" AND {vat_holds}"
                ),
                "ExpressionAttributeValues": {
                    ":quantity": {"N": str(quantity)},
                    ":amount": {"N": str(unit_price.amount)},
                    ":currency": {"S": unit_price.currency},
                    ":vat": {"S": vat_category.value},
                },
            }
        }

    def release_stock(self, product_id: str, quantity: int) -> dict[str, Any]:
        """A transaction entry that puts `quantity` back into stock (the product must still exist)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": _key(product_id),
                "UpdateExpression": "SET stock = stock + :quantity",
                "ConditionExpression": _EXISTS,
                "ExpressionAttributeValues": {":quantity": {"N": str(quantity)}},
            }
        }

    def _write(self, change: dict[str, Any], event: DomainEvent) -> bool:
        try:
            transact_write(self._dynamodb, [change, outbox_put(event, self._outbox)])
        except TransactionCancelled as cancelled:
            if cancelled.failed_conditions == [0]:
                return False
            raise
        return True


_EXISTS = "attribute_exists(productId)"
_EXISTS_NOT = "attribute_not_exists(productId)"


def _key(product_id: str) -> dict[str, Any]:
    return {"productId": {"S": product_id}}


def _item(product: Product) -> dict[str, Any]:
    return {
        "productId": {"S": product.product_id},
        "name": {"S": product.name},
        "description": {"S": product.description},
        "category": {"S": product.category},
        "priceAmount": {"N": str(product.price.amount)},
        "currency": {"S": product.price.currency},
        "stock": {"N": str(product.stock)},
        "vatCategory": {"S": product.vat_category.value},
        "createdAt": {"S": product.created_at},
        "updatedAt": {"S": product.updated_at},
    }


def _product(item: dict[str, Any]) -> Product:
    return Product(
        product_id=item["productId"]["S"],
        name=item["name"]["S"],
        description=item.get("description", {}).get("S", ""),
        category=item["category"]["S"],
        price=Price(amount=int(item["priceAmount"]["N"]), currency=item["currency"]["S"]),
        stock=int(item["stock"]["N"]),
        # Products stored before VAT categories existed are sold at the standard rate.
        vat_category=VatCategory(item.get("vatCategory", {}).get("S", VatCategory.STANDARD)),
        created_at=item["createdAt"]["S"],
        updated_at=item["updatedAt"]["S"],
    )
