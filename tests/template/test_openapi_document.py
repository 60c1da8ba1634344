"""docs/openapi.json is what the code generates, and it describes the API as it answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools import openapi

PROTECTED = {"/session", "/files", "/files/{file_id}", "/orders", "/orders/{order_id}", "/orders/{order_id}/invoice"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.generate()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, methods in document["paths"].items() for method, op in methods.items()]


def test_the_committed_document_is_what_the_code_generates(document: dict[str, Any]) -> None:
    # Stale? `make openapi` regenerates it.
    assert openapi.DOCUMENT.read_text() == openapi.render(document)


def test_every_refusal_is_documented_with_the_error_body(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_protected_routes_and_only_they_require_the_cognito_token(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["CognitoIdToken"]["scheme"] == "bearer"
    for path, method, operation in operations(document):
        protected = path in PROTECTED or (method in ("post", "put", "delete") and path != "/telemetry")
        assert (operation.get("security") == [{"CognitoIdToken": []}]) == protected, (method, path)
        assert ("401" in operation["responses"]) == protected, (method, path)


def test_every_operation_has_a_tag_and_bodies_have_examples(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        assert operation["tags"], (method, path)
    schemas = document["components"]["schemas"]
    for request_model in ("PlaceOrder", "ProductDraft", "ChangeStatus"):
        assert schemas[request_model]["examples"], request_model


def test_the_idempotency_key_pattern_is_the_one_the_api_enforces(document: dict[str, Any]) -> None:
    from dropshop.platform.idempotency import KEY_PATTERN

    (header,) = document["paths"]["/orders"]["post"]["parameters"]
    assert json.dumps(header["schema"]).count(json.dumps(KEY_PATTERN)) == 1
