"""/products through the template's REST API: a public catalog that only admins change."""

from __future__ import annotations

import json

import pytest

from tests.integration.commerce.conftest import Shop

DRAFT = {"name": "Enamel mug", "category": "kitchen", "price": {"amount": 1250, "currency": "EUR"}, "stock": 5}


def test_admin_adds_a_product_that_anyone_can_then_read(shop: Shop) -> None:
    status, added = shop.call("POST", "/products", as_user="admin", body=DRAFT)
    assert status == 201
    assert added["name"] == "Enamel mug"
    assert added["price"] == {"amount": 1250, "currency": "EUR"}
    status, read = shop.call("GET", f"/products/{added['productId']}")
    assert status == 200
    assert read == added


@pytest.mark.parametrize(
    ("method", "path_suffix", "user", "expected"),
    [
        ("POST", "", None, 401),
        ("POST", "", "customer", 403),
        ("POST", "", "machine", 401),
        ("POST", "", "admin", 201),
        ("PUT", "/{id}", None, 401),
        ("PUT", "/{id}", "customer", 403),
        ("PUT", "/{id}", "machine", 401),
        ("PUT", "/{id}", "admin", 200),
        ("DELETE", "/{id}", None, 401),
        ("DELETE", "/{id}", "other", 403),
        ("DELETE", "/{id}", "machine", 401),
        ("DELETE", "/{id}", "admin", 200),
        ("GET", "/{id}", None, 200),
        ("GET", "/{id}", "customer", 200),
        ("GET", "", None, 200),
        ("GET", "", "machine", 200),  # the catalog is public: a token adds nothing, and is not needed
    ],
)
def test_authorization_matrix(shop: Shop, method: str, path_suffix: str, user: str | None, expected: int) -> None:
    product_id = shop.add_product()
    body = DRAFT if method in ("POST", "PUT") else None
    status, answer = shop.call(method, "/products" + path_suffix.format(id=product_id), as_user=user, body=body)
    assert status == expected, answer


def test_replacing_changes_the_product_and_keeps_its_creation_time(shop: Shop) -> None:
    product_id = shop.add_product()
    _, before = shop.call("GET", f"/products/{product_id}")
    status, after = shop.call(
        "PUT", f"/products/{product_id}", as_user="admin", body={**DRAFT, "price": {"amount": 990, "currency": "EUR"}}
    )
    assert status == 200
    assert after["price"]["amount"] == 990
    assert after["createdAt"] == before["createdAt"]
    assert after["updatedAt"] > before["updatedAt"]


def test_a_product_is_sold_at_the_standard_vat_rate_unless_its_category_says_otherwise(shop: Shop) -> None:
    status, standard = shop.call("POST", "/products", as_user="admin", body=DRAFT)
    assert (status, standard["vatCategory"]) == (201, "standard")
    for category in ("reduced", "second_reduced", "zero", "standard"):
        status, replaced = shop.call(
            "PUT", f"/products/{standard['productId']}", as_user="admin", body={**DRAFT, "vatCategory": category}
        )
        assert (status, replaced["vatCategory"]) == (200, category)
        assert shop.call("GET", f"/products/{standard['productId']}")[1]["vatCategory"] == category


def test_a_product_stored_before_vat_categories_reads_as_standard(shop: Shop) -> None:
    product_id = shop.add_product()
    shop.stack.client("dynamodb").update_item(
        TableName=shop.stack.physical["ProductsTable"],
        Key={"productId": {"S": product_id}},
        UpdateExpression="REMOVE vatCategory",
    )
    assert shop.call("GET", f"/products/{product_id}")[1]["vatCategory"] == "standard"


def test_removed_product_is_gone(shop: Shop) -> None:
    product_id = shop.add_product()
    assert shop.call("DELETE", f"/products/{product_id}", as_user="admin")[0] == 200
    status, answer = shop.call("GET", f"/products/{product_id}")
    assert status == 404
    assert answer["field"] == "productId"
    assert shop.call("DELETE", f"/products/{product_id}", as_user="admin")[0] == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": {"amount": 12.5, "currency": "EUR"}}, "price.amount"),
        ({"price": {"amount": 1250, "currency": "euro"}}, "price.currency"),
        ({"stock": -1}, "stock"),
        ({"name": ""}, "name"),
        ({"category": "Kitchen Stuff"}, "category"),
        ({"colour": "red"}, "colour"),
        # The cases, accepted before: true as a price or stock, a made-up currency, invisible names.
        ({"price": {"amount": True, "currency": "EUR"}}, "price.amount"),
        ({"stock": True}, "stock"),
        ({"price": {"amount": 1250, "currency": "XXX"}}, "price.currency"),
        # ISO 4217 codes without a minor unit ("N.A."): gold, SDRs, the testing code. Not money to price in.
        ({"price": {"amount": 1250, "currency": "XAU"}}, "price.currency"),
        ({"price": {"amount": 1250, "currency": "XDR"}}, "price.currency"),
        ({"price": {"amount": 1250, "currency": "XTS"}}, "price.currency"),
        ({"name": "   "}, "name"),
        ({"name": "\u0001\u0002"}, "name"),
        ({"name": "Mug\u0000"}, "name"),
        ({"name": "\u202eMug"}, "name"),
        ({"vatCategory": "luxury"}, "vatCategory"),
        ({"vatCategory": "STANDARD"}, "vatCategory"),
        ({"vatCategory": None}, "vatCategory"),
        ({"vatCategory": 23}, "vatCategory"),
    ],
)
def test_invalid_product_is_refused_with_422_naming_the_field(shop: Shop, change: dict, field: str) -> None:
    status, answer = shop.call("POST", "/products", as_user="admin", body={**DRAFT, **change})
    assert status == 422
    assert answer["error"] == "invalid_request"
    assert answer["field"] == field


def test_body_that_is_not_json_is_a_4xx_not_a_500(shop: Shop) -> None:
    response = shop.client.open(
        "/products",
        method="POST",
        data="{not json",
        headers={"Authorization": f"Bearer {shop.users['admin'].id_token}"},
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert json.loads(response.get_data())["error"]


def test_catalog_pages_with_an_opaque_cursor_and_filters_by_category(shop: Shop) -> None:
    for index in range(5):
        shop.add_product(name=f"Mug {index}", category="kitchen")
    shop.add_product(name="Lamp", category="living")
    seen: list[str] = []
    cursor = None
    while True:
        query = "/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = shop.call("GET", query)
        assert status == 200
        assert len(page["items"]) <= 2
        seen += [product["name"] for product in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted([f"Mug {i}" for i in range(5)] + ["Lamp"])
    _, living = shop.call("GET", "/products?category=living")
    assert [product["name"] for product in living["items"]] == ["Lamp"]
    status, refused = shop.call("GET", "/products?cursor=bm90LWEta2V5")
    assert status == 400
    assert refused["field"] == "cursor"


def test_every_catalog_change_is_announced_once(shop: Shop) -> None:
    product_id = shop.add_product()
    shop.call("PUT", f"/products/{product_id}", as_user="admin", body=DRAFT)
    shop.call("DELETE", f"/products/{product_id}", as_user="admin")
    outbox = shop.stack.client("dynamodb").scan(TableName=shop.stack.physical["OutboxTable"])["Items"]
    changes = sorted(json.loads(item["event"]["S"])["data"]["change"] for item in outbox)
    assert changes == ["created", "deleted", "updated"]
