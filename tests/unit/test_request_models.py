"""Request models are strict: numbers are JSON integers, currencies are ISO 4217's, text is trimmed and visible."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from dropshop.catalog.model import ProductDraft
from dropshop.orders.model import PlaceOrder

DRAFT: dict[str, Any] = {
    "name": "Enamel mug",
    "category": "kitchen",
    "price": {"amount": 1250, "currency": "EUR"},
    "stock": 5,
}


def refused_at(model: type[ProductDraft] | type[PlaceOrder], data: dict[str, Any]) -> set[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return {tuple(problem["loc"]) for problem in refused.value.errors()}


# The cases: each was accepted (and coerced) before.
@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"price": {"amount": True, "currency": "EUR"}}, ("price", "amount")),
        ({"price": {"amount": "1250", "currency": "EUR"}}, ("price", "amount")),
        ({"price": {"amount": 1250.0, "currency": "EUR"}}, ("price", "amount")),
        ({"stock": True}, ("stock",)),
        ({"price": {"amount": 1250, "currency": "XXX"}}, ("price", "currency")),
        ({"price": {"amount": 1250, "currency": "ABC"}}, ("price", "currency")),
        ({"price": {"amount": 1250, "currency": "eur"}}, ("price", "currency")),
        ({"name": ""}, ("name",)),
        ({"name": "   "}, ("name",)),
        ({"name": "\x01\x02"}, ("name",)),
        ({"name": "Mug\x00"}, ("name",)),
        ({"name": "\u202egum"}, ("name",)),
        ({"name": 7}, ("name",)),
        ({"description": "fine\u200f"}, ("description",)),
    ],
)
def test_a_loose_or_unprintable_product_field_is_refused(change: dict[str, Any], location: tuple[str, ...]) -> None:
    assert location in refused_at(ProductDraft, {**DRAFT, **change})


@pytest.mark.parametrize("quantity", [True, "1", 1e1, 1.0, None])
def test_a_quantity_that_is_not_a_json_integer_is_refused(quantity: Any) -> None:
    order = {"lines": [{"productId": "mug", "quantity": quantity}]}
    assert ("lines", 0, "quantity") in refused_at(PlaceOrder, order)


def test_names_are_trimmed_and_descriptions_keep_their_line_breaks() -> None:
    draft = ProductDraft.model_validate({**DRAFT, "name": "  Mug \n", "description": " one\ntwo "})
    assert (draft.name, draft.description) == ("Mug", "one\ntwo")


def unprintable(text: str) -> bool:
    return any(unicodedata.category(character) in {"Cc", "Cf", "Cs"} for character in text)


@given(st.text(min_size=1, max_size=40))
@example("Mug\u202e")
@example("\ud800")
@example("0\x1f")  # \x1f is whitespace to str.strip, not to Unicode: refused, not trimmed
def test_a_name_is_accepted_only_when_it_is_visible_text(name: str) -> None:
    try:
        draft = ProductDraft.model_validate({**DRAFT, "name": name})
    except ValidationError:
        assert unprintable(name) or not name.strip()
    else:
        assert not unprintable(draft.name)
        assert draft.name == draft.name.strip() != ""
        assert draft.name in name
        draft.name.encode("utf-8")  # storable as DynamoDB's UTF-8
