"""docs/openapi.json is what the code generates, and it describes the API as it answers."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from dropshop.platform.model import UNPRINTABLE_CATEGORIES
from tests.template.conftest import Template, of_type
from tools import openapi


def shape(path: str) -> str:
    """/orders/{orderId} (the template) and /orders/{order_id} (the document) are one route."""
    return re.sub(r"\{\w+\}", "{}", path)


def guarded_by_the_cognito_authorizer(template: Template) -> set[tuple[str, str]]:
    """The REST routes the template puts behind its default (Cognito) authorizer: all but `Authorizer: NONE`."""
    guarded = set()
    for function in of_type(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "Api" and event["Properties"].get("Auth", {}).get("Authorizer") != "NONE":
                guarded.add((event["Properties"]["Method"].lower(), shape(event["Properties"]["Path"])))
    return guarded


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.generate()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The REST API's operations (POST /writer is the HTTP API's: API Gateway's own refusals, its own token)."""
    return [
        (path, method, op)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
        if path != "/writer"
    ]


def test_the_committed_document_is_what_the_code_generates(document: dict[str, Any]) -> None:
    # Stale? `make openapi` regenerates it.
    assert openapi.DOCUMENT.read_text() == openapi.render(document)


def test_every_refusal_is_documented_with_the_error_body(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_the_routes_the_authorizer_guards_and_only_they_require_the_cognito_token(
    document: dict[str, Any], template: Template
) -> None:
    assert document["components"]["securitySchemes"]["CognitoIdToken"]["scheme"] == "bearer"
    guarded = guarded_by_the_cognito_authorizer(template)
    assert len(guarded) > 10
    for path, method, operation in operations(document):
        protected = (method, shape(path)) in guarded
        assert (operation.get("security") == [{"CognitoIdToken": []}]) == protected, (method, path)
        assert ("401" in operation["responses"]) == protected, (method, path)


def test_paths_and_their_parameters_are_named_as_the_template_and_the_docs_name_them(
    document: dict[str, Any], template: Template
) -> None:
    # The template says /orders/{orderId}, and so must the document (a generated client names its arguments
    # after it): Powertools names a path parameter after the route's <placeholder>.
    routes = {
        (event["Properties"]["Method"].lower(), event["Properties"]["Path"])
        for function in of_type(template, "AWS::Serverless::Function").values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    for api in of_type(template, "AWS::Serverless::HttpApi").values():
        for path, methods in api["Properties"].get("DefinitionBody", {}).get("paths", {}).items():
            routes |= {(method, path) for method in methods}
    everything = [(p, m, op) for p, methods in document["paths"].items() for m, op in methods.items()]
    for path, method, operation in everything:
        assert (method, path) in routes, (method, path)
        named = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "path"}
        assert named == set(re.findall(r"\{(\w+)\}", path)), (method, path)


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


def test_the_api_pages_table_lists_every_documented_route(document: dict[str, Any]) -> None:
    readme = (openapi.ROOT / "docs" / "api.md").read_text()
    # | GET | `/orders/{orderId}` | ...: the path up to its query string, parameters compared by position.
    listed = {
        (method, shape(path.split("?")[0]))
        for method, path in re.findall(r"^\| (GET|POST|PUT|DELETE) \| `([^`]+)`", readme, re.MULTILINE)
    }
    for path, method, _ in operations(document):
        assert (method.upper(), shape(path)) in listed, (method, path)
    assert "## Errors" in readme
    for status in {int(s) for _, _, op in operations(document) for s in op["responses"] if int(s) >= 400}:
        assert f"| {status} |" in readme, f"docs/api.md's error table lacks {status}"


def test_post_writer_is_documented_as_the_http_api_serves_it(document: dict[str, Any], template: Template) -> None:
    from dropshop.accounts.model import Account

    writer = document["paths"]["/writer"]["post"]
    (authorizer,) = template["Resources"]["WriterHttpApi"]["Properties"]["Auth"]["Authorizers"].values()
    (requirement,) = writer["security"]
    assert requirement == {"PipelineAccessToken": authorizer["AuthorizationScopes"]}
    assert document["components"]["securitySchemes"]["PipelineAccessToken"]["scheme"] == "bearer"
    account = document["components"]["schemas"]["Account"]
    assert set(account["required"]) == {f.alias or n for n, f in Account.model_fields.items() if f.is_required()}
    for sample in account["examples"]:
        Account.model_validate(sample)
    assert set(writer["responses"]) == {"200", "400", "401", "403", "413"}
    assert list(writer["responses"]["200"]["content"]) == ["text/xml"]  # SQS's answer, passed through
    for status, response in writer["responses"].items():
        if status != "200":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/GatewayMessage"}


def test_every_path_parameter_has_a_title_and_a_description(document: dict[str, Any]) -> None:
    # Not pydantic's default title, the alias capitalised ("Productid"): a person's words, and what the id is.
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for parameter in (p for p in operation.get("parameters", []) if p["in"] == "path"):
                title = parameter["schema"]["title"]
                assert title != parameter["name"].title(), (method, path, title)
                assert " " in title, (method, path, title)
                assert parameter.get("description"), (method, path, parameter["name"])


def test_every_account_field_says_what_the_pipeline_enforces(document: dict[str, Any]) -> None:
    account = document["components"]["schemas"]["Account"]
    for name, field in account["properties"].items():
        assert field["title"] != name.title() or name.islower(), (name, field["title"])  # not "Balancecents"
        assert field.get("description"), name
    email = account["properties"]["email"]
    assert (email["pattern"], email["maxLength"]) == (r"^[^@\s]+@[^@\s]+\.[^@\s]+$", 254)


EXAMPLE_ACCOUNT = {
    "id": "acct-1",
    "name": "Ada",
    "status": "active",
    "balanceCents": 0,
    "updatedAt": "2026-12-07T00:00Z",
}


@given(email=st.one_of(st.emails(), st.text(max_size=40), st.from_regex(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")))
@example(email="ADA@EXAMPLE.COM")
@example(email="ada@example")
@example(email="a@b@c.d")
@example(email="a\u202e@b.cd")
def test_the_account_schemas_email_accepts_what_the_pipeline_accepts(document: dict[str, Any], email: str) -> None:
    """A sender who checks a record against the schema is never refused by the pipeline for its e-mail, nor told
    it is fine when the pipeline refuses it, except for what the description says it adds: control and format
    characters (JSON Schema's `pattern` cannot name Unicode categories portably). Sent trimmed, as the schema's
    pattern (no whitespace) asks."""
    from pydantic import ValidationError

    from dropshop.accounts.model import Account

    assume(email == email.strip())
    rules = document["components"]["schemas"]["Account"]["properties"]["email"]
    schema_accepts = len(email) <= rules["maxLength"] and re.search(rules["pattern"], email) is not None
    try:
        Account.model_validate(EXAMPLE_ACCOUNT | {"email": email})
    except ValidationError:
        pipeline_accepts = False
    else:
        pipeline_accepts = True
    printable = all(unicodedata.category(c) not in UNPRINTABLE_CATEGORIES for c in email)
    assert pipeline_accepts == (schema_accepts and printable), (email, pipeline_accepts, schema_accepts)
