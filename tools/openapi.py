"""The REST API's OpenAPI document, generated from the code: each function's Powertools resolver describes its
own routes, and Powertools' OpenAPIMerge joins them into the one document committed as docs/openapi.json.

    python -m tools.openapi           write docs/openapi.json (`make openapi`)
    python -m tools.openapi --check   exit 1 when docs/openapi.json is not what the code generates

The local stack serves the same document at /openapi.json (plus its own `servers`), merged the same way from
the functions it runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "openapi.json"
TITLE = "Drop Shop REST API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Every non-2xx answer has one shape, `ErrorBody`: `error` (a stable code), `message`, `field` (where) "
    "and, for 422, `details`. Protected routes take a Cognito ID token as `Authorization: Bearer <jwt>`."
)
TAGS = {
    "catalog": "Products: anyone browses, admins change them.",
    "orders": "Customers place and follow their orders; admins list every order and move them on.",
    "invoicing": "Invoices of confirmed orders.",
    "files": "The file registry of the ingestion pipeline (admins).",
    "identity": "The signed-in user.",
    "telemetry": "Browser events, signed in or not.",
}


def rest_handlers() -> list[str]:
    """The handler packages (handlers/<name>) of the functions the template puts behind the REST API."""
    from tools.local.stack import load_template  # `make local` serves this document without SAM CLI installed

    template = load_template((ROOT / "template.yaml").read_text())
    found = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        events = resource["Properties"].get("Events", {}).values()
        if any(event["Type"] == "Api" for event in events):
            found.add(Path(resource["Properties"]["CodeUri"]).name)
    return sorted(found)


def _security_schemes() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from dropshop.platform.contract import SECURITY_SCHEME

    description = "A Cognito ID token (`make token AS=customer` or `AS=admin` prints one for `make local`)."
    return {SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT", description=description)}


def describe(resolver: Any) -> dict[str, Any]:
    """One function's document, as its resolver generates it."""
    schema = resolver.get_openapi_schema(title=TITLE, version=VERSION, security_schemes=_security_schemes())
    described: dict[str, Any] = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    return described


def merged(documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One document from every function's: paths sorted, schemas nothing refers to dropped."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Tag

    merge = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        tags=[Tag(name=name, description=text) for name, text in TAGS.items()],
        security_schemes=_security_schemes(),
        on_conflict="error",  # two functions claiming one route is a template mistake
    )
    for document in documents:
        merge.add_schema(document)
    document = json.loads(json.dumps(merge.get_openapi_schema(), default=_plain))
    document.pop("servers", None)  # Powertools' "/" placeholder: each deployment (or the local stack) says where
    document.setdefault("components", {}).setdefault("schemas", {}).update(_error_body_schemas())
    _add_the_writer_route(document)
    document["paths"] = dict(sorted(document["paths"].items()))
    return _without_unreferenced_schemas(document)


def generate() -> dict[str, Any]:
    """The document of the functions in this checkout, imported as a cold start would (no AWS call made)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    layer = str(ROOT / "layers" / "shared")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    return merged(describe(importlib.import_module(f"handlers.{name}.app").app) for name in rest_handlers())


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _error_body_schemas() -> dict[str, Any]:
    """ErrorBody and the models it refers to, as component schemas (routes refer to it by name)."""
    from dropshop.platform.error_body import ErrorBody

    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ErrorBody": schema}


WRITER_SCOPE = "dropshop/pipeline.write"
SEND_MESSAGE_RESPONSE = (
    '<SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageResult>'
    "<MD5OfMessageBody>fafb00f5732ab283681e124bf8747ed1</MD5OfMessageBody>"
    "<MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId></SendMessageResult>"
    "<ResponseMetadata><RequestId>27daac76-34dd-47df-bd01-1f6e873584a0</RequestId></ResponseMetadata>"
    "</SendMessageResponse>"
)


def _add_the_writer_route(document: dict[str, Any]) -> None:
    """POST /writer: an HTTP API route integrated with SQS directly (no Lambda, so no resolver describes it). Its
    body is an account record, queued as sent and validated by the pipeline; its refusals are API Gateway's own
    `{"message": ...}`, since HTTP APIs have no gateway responses."""
    from dropshop.accounts.model import Account

    account = Account.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    # A plain validator hides the type: updatedAt is an ISO 8601 string with a timezone (epoch numbers refused).
    account["properties"]["updatedAt"] |= {"type": "string", "format": "date-time"}
    account["examples"] = [
        {
            "id": "acct-42",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "status": "active",
            "balanceCents": 1250,
            "currency": "EUR",
            "updatedAt": "2026-11-24T12:00:00Z",
        }
    ]
    components = document["components"]
    components["schemas"]["Account"] = account
    components["schemas"]["GatewayMessage"] = {
        "type": "object",
        "title": "GatewayMessage",
        "description": "API Gateway's own refusal (HTTP APIs have no gateway responses to reshape it).",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    }
    components["securitySchemes"]["PipelineAccessToken"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            f"A Cognito access token carrying the `{WRITER_SCOPE}` scope: a batch job's client-credentials token, "
            "or an admin's own access token (`make token AS=admin` prints an ID token; the access token comes "
            "from the same sign-in)."
        ),
    }

    record = {"$ref": "#/components/schemas/Account"}

    def refusal(text: str) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/GatewayMessage"}
        return {"description": text, "content": {"application/json": {"schema": schema}}}

    document["paths"]["/writer"] = {
        "post": {
            "operationId": "writeAccount",
            "summary": "Queue an account record for the pipeline",
            "description": (
                "Batch jobs and admins. The body is queued to WriterQueue as sent (HTTP API -> SQS SendMessage, no "
                "Lambda); the pipeline then validates it against this schema and the record ends in the accounts "
                "table or the error log. A 200 means queued, not stored."
            ),
            "tags": ["pipeline"],
            "security": [{"PipelineAccessToken": [WRITER_SCOPE]}],
            "requestBody": {
                "required": True,
                "description": "One account record, or a JSON array of them.",
                "content": {"application/json": {"schema": {"oneOf": [record, {"type": "array", "items": record}]}}},
            },
            "responses": {
                "200": {
                    "description": (
                        "Queued: SQS's own XML `SendMessageResponse` (`MessageId`, `MD5OfMessageBody`), passed "
                        "through as API Gateway does for an HTTP API's service integration."
                    ),
                    "content": {"text/xml": {"schema": {"type": "string"}, "example": SEND_MESSAGE_RESPONSE}},
                },
                "400": refusal("SQS refused the body (empty, or characters SQS does not carry)."),
                "401": refusal("`Unauthorized`: no valid access token of the pool."),
                "403": refusal(f"`Forbidden`: a valid token without the `{WRITER_SCOPE}` scope (every ID token)."),
                "413": refusal("`Request Entity Too Large`: over SQS's message size."),
            },
        }
    }
    document.setdefault("tags", []).append(
        {"name": "pipeline", "description": "The ingestion pipeline's HTTP API (batch jobs, admins)."}
    )


def _without_unreferenced_schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps({k: v for k, v in document.items() if k != "components"}) + json.dumps(schemas)
        referenced = set(re.findall(r"#/components/schemas/([^\"]+)", text))
        unused = set(schemas) - referenced
        if not unused:
            return document
        for name in unused:
            del schemas[name]


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is None:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return dump(by_alias=True, exclude_none=True, mode="json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail when the committed document is stale")
    args = parser.parse_args(argv)
    document = generate()
    text = render(document)
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT.relative_to(ROOT)} is stale: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(exist_ok=True)
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)} ({len(document['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
