"""The catalog's use cases on moto's DynamoDB (ProductsTable and OutboxTable as the template declares them): what
each stores, announces and refuses, and the stock entries it hands the orders context's transactions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dropshop.catalog import service
from dropshop.catalog.model import Money, Price, ProductDraft
from dropshop.catalog.vat import VatCategory
from dropshop.platform import aws
from dropshop.platform.errors import Conflict, NotFound
from tests.support import container
from tests.support.logs import LogLines
from tests.support.tables import create_declared_table

PRODUCTS, OUTBOX = "products", "outbox"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_declared_table(client, "ProductsTable", PRODUCTS)
        create_declared_table(client, "OutboxTable", OUTBOX)
        monkeypatch.setenv("PRODUCTS_TABLE", PRODUCTS)
        monkeypatch.setenv("OUTBOX_TABLE", OUTBOX)
        container.cold_start()
        yield client
    container.cold_start()


def a_draft(
    name: str = "Enamel mug", *, category: str = "kitchen", stock: int = 40, amount: int = 1250
) -> ProductDraft:
    return ProductDraft(name=name, category=category, price=Price(amount=amount, currency="EUR"), stock=stock)


def announced(dynamodb: Any) -> list[dict[str, Any]]:
    """The events in the outbox, oldest first by their time stamps."""
    items = dynamodb.scan(TableName=OUTBOX)["Items"]
    events = [json.loads(item["event"]["S"]) for item in items]
    return sorted(events, key=lambda event: event["occurredAt"])


def test_an_added_product_gets_an_id_is_stored_and_announced_as_created(dynamodb: Any, logs: LogLines) -> None:
    product = service.add_product(a_draft())
    assert uuid.UUID(product.product_id).version == 4
    assert product.created_at == product.updated_at
    assert service.get_product(product.product_id) == product
    ((event),) = announced(dynamodb)
    assert (event["type"], event["data"]["change"]) == ("ProductChanged", "created")
    assert event["data"]["product"] == product.model_dump(mode="json")
    assert [line["productId"] for line in logs.with_message("product added")] == [product.product_id]


def test_an_id_taken_already_is_a_409_never_an_overwrite(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = uuid.UUID("0b5e7c1a-3f5d-4a8e-9c61-2d4f8e9a7b10")
    # A collision of the products' ids, on purpose (uuid4 never repeats in practice); events keep their own ids.
    monkeypatch.setattr(service, "uuid", SimpleNamespace(uuid4=lambda: taken))
    first = service.add_product(a_draft("First"))
    with pytest.raises(Conflict) as refused:
        service.add_product(a_draft("Second"))
    assert (refused.value.field, refused.value.message) == ("productId", f"product {taken} exists")
    assert service.get_product(str(taken)) == first
    assert len(announced(dynamodb)) == 1


def test_a_replaced_product_keeps_its_id_and_creation_time_and_is_announced_as_updated(
    dynamodb: Any, logs: LogLines
) -> None:
    added = service.add_product(a_draft())
    replaced = service.replace_product(added.product_id, a_draft("Stoneware mug", amount=1500, stock=3))
    assert (replaced.product_id, replaced.created_at) == (added.product_id, added.created_at)
    assert replaced.updated_at >= added.updated_at
    assert (replaced.name, replaced.price.amount, replaced.stock) == ("Stoneware mug", 1500, 3)
    assert service.get_product(added.product_id) == replaced
    assert [(e["data"]["change"], e["data"]["product"]["name"]) for e in announced(dynamodb)] == [
        ("created", "Enamel mug"),
        ("updated", "Stoneware mug"),
    ]
    assert [line["productId"] for line in logs.with_message("product replaced")] == [added.product_id]


def test_a_removed_product_is_gone_and_announced_as_deleted_with_what_it_was(dynamodb: Any, logs: LogLines) -> None:
    added = service.add_product(a_draft())
    service.remove_product(added.product_id)
    with pytest.raises(NotFound):
        service.get_product(added.product_id)
    deleted = announced(dynamodb)[-1]
    assert (deleted["data"]["change"], deleted["data"]["product"]) == ("deleted", added.model_dump(mode="json"))
    assert [line["productId"] for line in logs.with_message("product removed")] == [added.product_id]


USE_CASES_OF_ONE_PRODUCT: dict[str, Callable[[str], object]] = {
    "get": service.get_product,
    "replace": lambda product_id: service.replace_product(product_id, a_draft()),
    "remove": service.remove_product,
}


@pytest.mark.parametrize("use_case", USE_CASES_OF_ONE_PRODUCT)
def test_an_unknown_product_is_a_404_naming_it_and_announces_nothing(dynamodb: Any, use_case: str) -> None:
    with pytest.raises(NotFound) as refused:
        USE_CASES_OF_ONE_PRODUCT[use_case]("ghost")
    assert (refused.value.field, refused.value.message) == ("productId", "no product ghost")
    assert announced(dynamodb) == []


def test_products_are_listed_by_category_in_pages_that_add_up_to_all_of_them(dynamodb: Any) -> None:
    kitchen = {service.add_product(a_draft(f"Mug {i}")).product_id for i in range(5)}
    garden = {service.add_product(a_draft(f"Rake {i}", category="garden")).product_id for i in range(2)}
    seen: list[str] = []
    cursor = None
    for _ in range(10):  # bounded: a cursor that never advances fails here rather than hanging
        page = service.list_products(category="kitchen", limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [product.product_id for product in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert sorted(seen) == sorted(kitchen)
    everything = service.list_products(category=None, limit=100, cursor=None)
    assert {product.product_id for product in everything.items} == kitchen | garden
    assert everything.next_cursor is None


def test_current_reads_the_products_that_exist_by_id(dynamodb: Any) -> None:
    mug, lamp = service.add_product(a_draft("Mug")), service.add_product(a_draft("Lamp"))
    found = service.current([mug.product_id, "ghost", lamp.product_id])
    assert found == {mug.product_id: mug, lamp.product_id: lamp}


def stock_of(dynamodb: Any, product_id: str) -> int:
    return service.get_product(product_id).stock


def test_a_reservation_takes_stock_at_the_quoted_price_and_a_release_puts_it_back(dynamodb: Any) -> None:
    mug = service.add_product(a_draft(stock=5))
    quoted = Money(amount=1250, currency="EUR")
    dynamodb.transact_write_items(
        TransactItems=[service.reserve_stock(mug.product_id, 3, quoted, VatCategory.STANDARD)]
    )
    assert stock_of(dynamodb, mug.product_id) == 2
    dynamodb.transact_write_items(TransactItems=[service.release_stock(mug.product_id, 3)])
    assert stock_of(dynamodb, mug.product_id) == 5


@pytest.mark.parametrize(
    ("quantity", "quoted", "category"),
    [
        (6, Money(amount=1250, currency="EUR"), VatCategory.STANDARD),  # more than in stock
        (1, Money(amount=1000, currency="EUR"), VatCategory.STANDARD),  # the price moved
        (1, Money(amount=1250, currency="EUR"), VatCategory.REDUCED),  # the VAT category moved
    ],
)
def test_a_reservation_fails_its_transaction_when_stock_price_or_vat_moved(
    dynamodb: Any, quantity: int, quoted: Money, category: VatCategory
) -> None:
    mug = service.add_product(a_draft(stock=5))
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[service.reserve_stock(mug.product_id, quantity, quoted, category)])
    assert stock_of(dynamodb, mug.product_id) == 5


def test_every_product_is_listed_in_pages_when_no_category_is_asked(dynamodb: Any) -> None:
    added = {service.add_product(a_draft(f"Item {i}", category=f"c{i % 3}")).product_id for i in range(5)}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = service.list_products(category=None, limit=2, cursor=cursor)
        seen += [product.product_id for product in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert sorted(seen) == sorted(added)


LEGACY = {  # as products were stored before descriptions and VAT categories
    "productId": {"S": "old-mug"},
    "name": {"S": "Old mug"},
    "category": {"S": "kitchen"},
    "priceAmount": {"N": "900"},
    "currency": {"S": "EUR"},
    "stock": {"N": "4"},
    "createdAt": {"S": "2025-01-01T00:00:00.000+00:00"},
    "updatedAt": {"S": "2025-01-01T00:00:00.000+00:00"},
}


def test_a_product_stored_before_descriptions_and_vat_reads_as_undescribed_at_the_standard_rate(
    dynamodb: Any,
) -> None:
    dynamodb.put_item(TableName=PRODUCTS, Item=LEGACY)
    product = service.get_product("old-mug")
    assert (product.description, product.vat_category, product.price, product.stock) == (
        "",
        VatCategory.STANDARD,
        Price(amount=900, currency="EUR"),
        4,
    )
    quoted = Money(amount=900, currency="EUR")
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[service.reserve_stock("old-mug", 1, quoted, VatCategory.REDUCED)])
    dynamodb.transact_write_items(TransactItems=[service.reserve_stock("old-mug", 1, quoted, VatCategory.STANDARD)])
    assert stock_of(dynamodb, "old-mug") == 3


@pytest.mark.parametrize("move", ["reserve", "release"])
def test_stock_of_a_removed_product_can_be_neither_reserved_nor_released(dynamodb: Any, move: str) -> None:
    mug = service.add_product(a_draft(stock=5))
    service.remove_product(mug.product_id)
    entry = (
        service.reserve_stock(mug.product_id, 1, Money(amount=1250, currency="EUR"), VatCategory.STANDARD)
        if move == "reserve"
        else service.release_stock(mug.product_id, 1)
    )
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[entry])
    assert "Item" not in dynamodb.get_item(TableName=PRODUCTS, Key={"productId": {"S": mug.product_id}})


@pytest.mark.parametrize("use_case", ["replace", "remove"])
def test_a_product_removed_between_its_read_and_its_write_is_a_404_and_stays_removed(
    dynamodb: Any, use_case: str
) -> None:
    """Another admin's DELETE lands after this call read the product and before its transaction: the
    transaction's condition (the product exists) fails, and nothing is written or announced."""
    added = service.add_product(a_draft())
    key = {"productId": {"S": added.product_id}}

    def removed_meanwhile(**_: Any) -> None:
        events.unregister("before-call.dynamodb.TransactWriteItems", removed_meanwhile)
        dynamodb.delete_item(TableName=PRODUCTS, Key=key)  # the fixture's own client: not this hook's

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.TransactWriteItems", removed_meanwhile)
    with pytest.raises(NotFound) as refused:
        USE_CASES_OF_ONE_PRODUCT[use_case](added.product_id)
    assert (refused.value.field, refused.value.message) == ("productId", f"no product {added.product_id}")
    assert "Item" not in dynamodb.get_item(TableName=PRODUCTS, Key=key)
    assert [event["data"]["change"] for event in announced(dynamodb)] == ["created"]


def test_what_an_order_is_priced_from_is_read_strongly_consistent(dynamodb: Any) -> None:
    """moto reads are always current; DynamoDB's default read is eventually consistent and may return a price or
    stock from before the last write (AWS: "DynamoDB read consistency"). An order priced from a stale read fails
    its transaction's conditions, so `current` must ask for ConsistentRead on every batch."""
    mug = service.add_product(a_draft())
    asked: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        asked.extend(params["RequestItems"].values())

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.BatchGetItem", record)
    assert service.current([mug.product_id]) == {mug.product_id: mug}
    assert asked
    assert all(request.get("ConsistentRead") is True for request in asked)


def test_a_description_and_a_vat_category_are_stored_and_held_by_reservations(dynamodb: Any) -> None:
    draft = a_draft().model_copy(update={"description": "Holds 350 ml.", "vat_category": VatCategory.REDUCED})
    added = service.add_product(draft)
    for read in (service.get_product(added.product_id), service.current([added.product_id])[added.product_id]):
        assert (read.description, read.vat_category) == ("Holds 350 ml.", VatCategory.REDUCED)
    listed = service.list_products(category="kitchen", limit=10, cursor=None).items
    assert listed == [added]
    quoted = Money(amount=1250, currency="EUR")
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):  # quoted at another rate than stored
        dynamodb.transact_write_items(
            TransactItems=[service.reserve_stock(added.product_id, 1, quoted, VatCategory.STANDARD)]
        )
    dynamodb.transact_write_items(
        TransactItems=[service.reserve_stock(added.product_id, 1, quoted, VatCategory.REDUCED)]
    )
    assert stock_of(dynamodb, added.product_id) == 39
