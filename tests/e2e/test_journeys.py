"""What a frontend developer and an operator do against `make local`, end to end."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.e2e.conftest import Client, eventually
from tests.template.conftest import load_template
from tools import openapi
from tools.local.server import DEMO_ORDER_ID, LocalStack

ACCOUNT = {"name": "Ada", "email": "ADA@example.com", "status": "active", "balanceCents": 100}


def scan(local: LocalStack, table: str) -> list[dict[str, Any]]:
    assert local.stack is not None
    return local.stack.client("dynamodb").scan(TableName=local.stack.physical[table])["Items"]


def test_a_customer_signs_in_and_reads_their_session(
    api: Client, customer_token: str, customer: dict[str, str]
) -> None:
    status, profile = api.request("GET", "/session", token=customer_token)
    assert status == 200
    assert (profile["username"], profile["email"], profile["groups"]) == (
        customer["username"],
        customer["email"],
        ["customer"],
    )
    assert "orders:place" in profile["permissions"]


def test_without_a_token_the_api_gateway_refuses_protected_routes(api: Client) -> None:
    status, refusal = api.request("GET", "/session")
    assert (status, refusal["error"], refusal["field"]) == (401, "unauthenticated", "Authorization")
    assert api.request("GET", "/files")[0] == 401
    assert api.request("POST", "/writer", body=ACCOUNT)[0] == 401


def rest_routes() -> list[tuple[str, str, bool]]:
    """Every route of the REST API as the template declares it: (method, path, public)."""
    resources = load_template()["Resources"]
    return sorted(
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"], public)
        for function in resources.values()
        if function["Type"] == "AWS::Serverless::Function"
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "RestApi"}
        for public in [event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"]
    )


@pytest.mark.parametrize(("method", "path", "public"), rest_routes())
def test_a_batch_jobs_token_opens_no_rest_route_only_public_ones_answer(
    api: Client,
    machine_token: str,
    products: dict[str, dict[str, Any]],
    method: str,
    path: str,
    public: bool,
) -> None:
    """A client-credentials access token names no user: the REST API's Cognito authorizer takes ID tokens only."""
    product = products["Enamel mug"]["productId"]  # the run's own: a deployed stack has no demo catalog
    concrete = path.format(productId=product, orderId=DEMO_ORDER_ID, fileId="any")
    body = {"events": []} if path == "/telemetry" else {} if method in {"POST", "PUT"} else None
    status, answer = api.request(method, concrete, token=machine_token, body=body)
    if public:
        assert status < 400, answer
    else:
        assert (status, answer["error"], answer["field"]) == (401, "unauthenticated", "Authorization")


def test_anonymous_telemetry_is_accepted_and_bad_events_explained(api: Client) -> None:
    status, receipt = api.request(
        "POST",
        "/telemetry",
        body={"events": [{"type": "click", "target": "a#buy", "timestamp": "2026-11-24T12:00:00Z"}, {"type": "?"}]},
    )
    assert status == 202
    assert receipt["accepted"] == 1
    assert [r["index"] for r in receipt["rejected"]] == [1]
    assert api.request("POST", "/telemetry", body=b"{not json")[0] == 400


def test_the_demo_file_is_ingested_and_listed_for_admins_only(
    local: LocalStack, api: Client, admin_token: str, customer_token: str
) -> None:
    def processed() -> Any:
        status, page = api.request("GET", "/files", token=admin_token)
        return status == 200 and [f for f in page["items"] if f["status"] == "PROCESSED"]

    (demo,) = eventually(processed)
    assert demo["ingestion"] == {"recordsRead": 5, "accepted": 4, "rejected": 1}
    assert api.request("GET", f"/files/{demo['fileId']}", token=admin_token)[1]["key"] == demo["key"]
    assert api.request("GET", "/files", token=customer_token)[0] == 403


def test_an_uploaded_file_flows_to_the_account_table(local: LocalStack, api: Client) -> None:
    assert local.stack is not None
    records = b"\n".join(
        [
            b'{"id": "acc-e2e-1", "name": "One", "email": "one@example.com", "status": "active",'
            b' "balanceCents": 1, "updatedAt": "2026-11-24T12:00:00Z"}',
            b'{"id": "acc-e2e-2", "name": "", "email": "bad", "status": "active", "balanceCents": 2}',
        ]
    )
    local.stack.client("s3").put_object(
        Bucket=local.stack.physical["DataBucket"], Key="incoming/e2e.ndjson", Body=records
    )
    eventually(lambda: any(i["accountId"]["S"] == "acc-e2e-1" for i in scan(local, "AccountTable")))
    refused = eventually(
        lambda: [e for e in scan(local, "LogTable") if e["origin"]["S"].endswith("incoming/e2e.ndjson")]
    )
    # Its position: the byte offset of the record's first byte in the file (docs/pipeline.md, "Positions").
    assert [int(e["position"]["N"]) for e in refused] == [records.index(b'{"id": "acc-e2e-2"')]


def test_post_writer_goes_through_sqs_to_the_writer(local: LocalStack, api: Client, machine_token: str) -> None:
    record = ACCOUNT | {"id": "acc-api-1", "updatedAt": "2026-11-24T12:00:00Z"}
    status, sent = api.request("POST", "/writer", token=machine_token, body=record)
    assert status == 200
    # What the HTTP API's SQS-SendMessage integration answers on AWS: SQS's own XML response, passed through.
    answer = ElementTree.fromstring(sent["xml"])  # noqa: S314 - the local gateway's answer
    namespace = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}
    assert answer.tag == "{http://queue.amazonaws.com/doc/2012-11-05/}SendMessageResponse"
    assert answer.findtext("sqs:SendMessageResult/sqs:MessageId", namespaces=namespace)
    assert answer.findtext("sqs:ResponseMetadata/sqs:RequestId", namespaces=namespace)
    md5 = hashlib.md5(json.dumps(record).encode()).hexdigest()  # noqa: S324 - SQS's checksum of the body
    assert answer.findtext("sqs:SendMessageResult/sqs:MD5OfMessageBody", namespaces=namespace) == md5
    stored = eventually(lambda: [i for i in scan(local, "AccountTable") if i["accountId"]["S"] == "acc-api-1"])
    assert stored[0]["email"]["S"] == "ada@example.com"

    api.request("POST", "/writer", token=machine_token, body={"id": "acc-api-2"})
    eventually(lambda: [e for e in scan(local, "LogTable") if e.get("messageId", {}).get("S")])


def test_only_admins_access_tokens_and_batch_jobs_may_post_to_the_writer(
    local: LocalStack,
    api: Client,
    customer_token: str,
    customer_access_token: str,
    admin_token: str,
    admin_access_token: str,
    machine_token: str,
) -> None:
    matrix = {
        "anonymous": (None, 401),
        "shopper-id": (customer_token, 403),
        "shopper-access": (customer_access_token, 403),
        "admin-id": (admin_token, 403),  # ID tokens carry no scope, whatever the groups
        "admin-access": (admin_access_token, 200),
        "batch-job": (machine_token, 200),
    }
    for caller, (token, expected) in matrix.items():
        record = ACCOUNT | {"id": f"acc-matrix-{caller}", "updatedAt": "2026-11-24T12:00:00Z"}
        status, answer = api.request("POST", "/writer", token=token, body=record)
        assert status == expected, (caller, answer)

    def stored() -> set[str]:
        ids = {item["accountId"]["S"] for item in scan(local, "AccountTable")}
        return {account for account in ids if account.startswith("acc-matrix")}

    eventually(lambda: {"acc-matrix-admin-access", "acc-matrix-batch-job"} <= stored())
    assert stored() == {"acc-matrix-admin-access", "acc-matrix-batch-job"}


@pytest.mark.parametrize(
    ("group", "access", "expected"), [("admin", True, 200), ("admin", False, 403), ("customer", True, 403)]
)
def test_make_token_prints_what_post_writer_expects_of_each_user(
    local: LocalStack,
    api: Client,
    capsys: pytest.CaptureFixture[str],
    group: str,
    access: bool,
    expected: int,
) -> None:
    """`make token AS=admin KIND=access` is `python -m tools.local token --as admin --access`."""
    from tools.local import __main__ as local_cli

    command = ["token", "--as", group, "--state-dir", str(local.state_dir), *(["--access"] if access else [])]
    assert local_cli.main(command) == 0
    token = capsys.readouterr().out.strip()
    assert api.request("POST", "/writer", token=token, body=ACCOUNT | {"id": f"acc-cli-{group}"})[0] == expected


def test_a_demoted_admin_may_no_longer_post_to_the_writer_once_refreshed_or_signed_in_again(
    local: LocalStack, api: Client
) -> None:
    from tools.local.server import DEMO_PASSWORD

    assert local.stack is not None
    cognito, pool = local.stack.client("cognito-idp"), local.stack.physical["UserPool"]
    client = local.stack.physical["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="grace", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="grace", Password=DEMO_PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="grace", GroupName="admin")

    def sign_in(**flow: Any) -> dict[str, str]:
        tokens: dict[str, str] = cognito.initiate_auth(ClientId=client, **flow)["AuthenticationResult"]
        return tokens

    password = {"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "grace", "PASSWORD": DEMO_PASSWORD}}
    tokens = sign_in(**password)
    assert api.request("POST", "/writer", token=tokens["AccessToken"], body=ACCOUNT | {"id": "acc-grace"})[0] == 200
    cognito.admin_remove_user_from_group(UserPoolId=pool, Username="grace", GroupName="admin")

    refreshed = sign_in(AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert api.request("POST", "/writer", token=refreshed["AccessToken"], body=ACCOUNT)[0] == 403
    assert api.request("POST", "/writer", token=sign_in(**password)["AccessToken"], body=ACCOUNT)[0] == 403


def test_cors_preflight_is_answered_for_the_frontend(api: Client) -> None:
    status, _ = api.request("OPTIONS", "/session")
    assert status == 204


def test_swagger_ui_and_one_openapi_document_describe_the_rest_api(local: LocalStack, api: Client) -> None:
    status, document = api.request("GET", "/openapi.json")
    assert status == 200
    assert document.pop("servers") == [{"url": local.url}]
    assert document == json.loads(openapi.DOCUMENT.read_text())  # the committed document, merged the same way
    with urllib.request.urlopen(f"{local.url}/swagger", timeout=10) as page:  # noqa: S310 - the local gateway
        assert b"swagger-ui" in page.read()
