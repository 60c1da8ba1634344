"""Uploads are registered once with their metadata; admins list and read them through the REST API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import jwt
import pytest

from dropshop.platform.settings import settings
from tests.integration.pipeline.conftest import scan
from tests.integration.pipeline.object_events import put
from tests.integration.pipeline.records import json_array, samples
from tests.support import cognito
from tests.support.events import load_event
from tools.local.gateway import authorizer_claims
from tools.local.lambda_context import LambdaContext
from tools.local.stack import Stack
from tools.local.wiring import Wiring


def test_a_csv_upload_is_registered_with_its_metadata_and_row_count(stack: Stack, wiring: Wiring) -> None:
    body = b"id,name\n1,Ada\n2,Grace\n3,Linus\n"
    event = put(stack, "uploads/team list.csv", body, ContentType="text/csv")
    wiring.deliver(event)
    wiring.deliver(event)  # S3 and EventBridge deliver at least once

    (file,) = scan(stack, "FilesTable")
    assert file["key"]["S"] == "uploads/team list.csv"
    assert file["name"]["S"] == "team list.csv"
    assert file["contentType"]["S"] == "text/csv"
    assert int(file["size"]["N"]) == len(body)
    assert int(file["recordCount"]["N"]) == 3
    assert file["status"]["S"] == "RECEIVED"


def test_a_json_file_outside_the_pipeline_gets_its_record_count(stack: Stack, wiring: Wiring) -> None:
    wiring.upload("uploads/catalog.json", json_array(samples(12, invalid_share=0.5, accounts=5, seed=8)))
    (file,) = scan(stack, "FilesTable")
    assert int(file["recordCount"]["N"]) == 12
    assert "recordsRead" not in file  # not ingested: only files under the ingest prefix feed the pipeline


@pytest.fixture
def files_api(
    stack: Stack, wiring: Wiring, user_pool: cognito.UserPool, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """The handler with tables from the in-process stack, called as the REST API's Cognito authorizer calls it
    with the tokens of moto's Cognito server (the function reads the claims it passes on, as deployed)."""
    monkeypatch.setenv("USER_POOL_ID", user_pool.pool_id)
    monkeypatch.setenv("USER_POOL_CLIENT_ID", user_pool.client_id)
    settings.cache_clear()
    for i in range(3):
        wiring.upload(f"uploads/report-{i}.csv", b"a,b\n1,2\n")
    yield wiring._handler("FilesApiFunction")
    settings.cache_clear()


def call(app: ModuleType, event: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    """The request with the claims the authorizer verified from `token`; without a token, no claims and no
    Authorization header (where no authorizer stands, the function itself refuses: 401)."""
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "Authorization"}
    event["requestContext"]["authorizer"] = (
        {"claims": authorizer_claims(jwt.decode(token, options={"verify_signature": False}))} if token else {}
    )
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def list_event(**query: str) -> dict[str, Any]:
    event = load_event("files_api/list-files")
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return event


def test_files_are_for_admins_only(
    files_api: ModuleType, customer: cognito.SignedInUser, admin: cognito.SignedInUser
) -> None:
    assert call(files_api, list_event(), None)[0] == 401
    status, body = call(files_api, list_event(), customer.id_token)
    assert (status, body["field"]) == (403, "Authorization")
    assert call(files_api, list_event(), admin.id_token)[0] == 200


def test_admins_page_through_files_newest_first(files_api: ModuleType, admin: cognito.SignedInUser) -> None:
    status, first = call(files_api, list_event(limit="2"), admin.id_token)
    assert status == 200
    assert len(first["items"]) == 2
    _, rest = call(files_api, list_event(limit="2", cursor=first["nextCursor"]), admin.id_token)
    assert len(rest["items"]) == 1
    assert rest["nextCursor"] is None
    listed = [f["uploadedAt"] for f in first["items"] + rest["items"]]
    assert listed == sorted(listed, reverse=True)
    assert {f["name"] for f in first["items"] + rest["items"]} == {f"report-{i}.csv" for i in range(3)}


@pytest.mark.parametrize(("query", "field"), [({"limit": "0"}, "limit"), ({"limit": "many"}, "limit")])
def test_a_bad_page_size_is_a_422_naming_it(
    files_api: ModuleType, admin: cognito.SignedInUser, query: dict[str, str], field: str
) -> None:
    status, body = call(files_api, list_event(**query), admin.id_token)
    assert status == 422
    assert body["field"] == field


def test_a_forged_cursor_is_a_400_naming_it(files_api: ModuleType, admin: cognito.SignedInUser) -> None:
    status, body = call(files_api, list_event(cursor="bm90LWEtY3Vyc29y"), admin.id_token)
    assert (status, body["field"]) == (400, "cursor")


def test_one_file_by_id_and_a_404_for_an_unknown_one(
    files_api: ModuleType, stack: Stack, admin: cognito.SignedInUser
) -> None:
    file_id = scan(stack, "FilesTable")[0]["fileId"]["S"]
    event = load_event("files_api/get-file")
    event["pathParameters"] = {"fileId": file_id}
    event["path"] = f"/files/{file_id}"
    status, body = call(files_api, event, admin.id_token)
    assert (status, body["fileId"], body["recordCount"], body["contentType"]) == (
        200,
        file_id,
        1,
        "binary/octet-stream",
    )
    status, body = call(files_api, load_event("files_api/get-file"), admin.id_token)
    assert (status, body["error"], body["field"]) == (404, "not_found", "fileId")
