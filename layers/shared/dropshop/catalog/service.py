"""Use cases of the catalog, and what it offers the orders context: current prices and stock movements
that commit inside an order's own transaction (so the two can never disagree)."""

from __future__ import annotations

import uuid
from typing import Any

from dropshop.catalog.events import Change, product_changed
from dropshop.catalog.model import Money, Product, ProductDraft, ProductPage
from dropshop.catalog.repository import ProductRepository
from dropshop.catalog.vat import VatCategory
from dropshop.platform import aws
from dropshop.platform.clock import now_iso
from dropshop.platform.errors import Conflict, NotFound
from dropshop.platform.observability import logger
from dropshop.platform.settings import settings


def _products() -> ProductRepository:
    s = settings()
    return ProductRepository(aws.client("dynamodb"), s.products_table, s.outbox_table)


def list_products(*, category: str | None, limit: int, cursor: str | None) -> ProductPage:
    products, next_cursor = _products().page(category=category, limit=limit, cursor=cursor)
    return ProductPage(items=products, next_cursor=next_cursor)


def get_product(product_id: str) -> Product:
    product = _products().get(product_id)
    if product is None:
        raise NotFound(f"no product {product_id}", field="productId")
    return product


def add_product(draft: ProductDraft) -> Product:
    now = now_iso()
    product = Product(**draft.model_dump(), product_id=str(uuid.uuid4()), created_at=now, updated_at=now)
    if not _products().add(product, product_changed(product, Change.CREATED)):
        raise Conflict(f"product {product.product_id} exists", field="productId")  # a uuid4 collision
    logger.info("product added", extra={"productId": product.product_id})
    return product


def replace_product(product_id: str, draft: ProductDraft) -> Product:
    current = get_product(product_id)
    product = Product(**draft.model_dump(), product_id=product_id, created_at=current.created_at, updated_at=now_iso())
    if not _products().replace(product, product_changed(product, Change.UPDATED)):
        raise NotFound(f"no product {product_id}", field="productId")
    logger.info("product replaced", extra={"productId": product_id})
    return product


def remove_product(product_id: str) -> None:
    product = get_product(product_id)
    if not _products().remove(product_id, product_changed(product, Change.DELETED)):
        raise NotFound(f"no product {product_id}", field="productId")
    logger.info("product removed", extra={"productId": product_id})


# ---------------------------------------------------------------- for the orders context


def current(product_ids: list[str]) -> dict[str, Product]:
    """The products that exist among `product_ids`, read consistently, by id."""
    return _products().get_many(product_ids)


def reserve_stock(product_id: str, quantity: int, unit_price: Money, vat_category: VatCategory) -> dict[str, Any]:
    """A transaction entry; the transaction fails on it if stock is short or the price or VAT category moved
    since quoted."""
    return _products().reserve_stock(product_id, quantity, unit_price, vat_category)


def release_stock(product_id: str, quantity: int) -> dict[str, Any]:
    return _products().release_stock(product_id, quantity)
