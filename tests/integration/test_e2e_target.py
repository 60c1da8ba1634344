"""`make e2e`: choosing the stack the journeys run against, on moto's CloudFormation and Cognito."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tools import e2e_target
from tools.e2e_target import RefusedTarget

OUTPUTS = {
    "RestApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/dev",
    "WriterApiUrl": "https://def.execute-api.eu-west-1.amazonaws.com/writer",
    "WebSocketUrl": "wss://ghi.execute-api.eu-west-1.amazonaws.com/dev",
    "BatchJobClientId": "batch",
    "TokenEndpoint": "https://dropshop-dev.auth.eu-west-1.amazoncognito.com/oauth2/token",
    "DataBucketName": "dropshop-dev-data",
    "AccountTableName": "dropshop-dev-accounts",
}


@pytest.fixture
def aws(aws_session: boto3.session.Session) -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield aws_session


def _stack(aws: boto3.session.Session, name: str, stage: str, outputs: dict[str, str] | None = None) -> str:
    """A stack with a user pool, its web client and the Drop Shop outputs (moto's CloudFormation)."""
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    for group in ("customer", "admin"):
        cognito.create_group(UserPoolId=pool, GroupName=group)
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    values = (OUTPUTS | {"UserPoolId": pool, "UserPoolClientId": client}) if outputs is None else outputs
    template = {
        "Parameters": {"Stage": {"Type": "String"}},
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in values.items()},
    }
    aws.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    return pool


def test_without_a_stack_named_the_suite_runs_on_the_local_stack() -> None:
    assert e2e_target.from_environment(environment={}) is None


def test_a_dev_stack_is_read_from_its_outputs(aws: boto3.session.Session) -> None:
    pool = _stack(aws, "dropshop-dev", "dev")
    target = e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-dev"})
    assert target is not None
    assert (target.api_url, target.writer_url, target.websocket_url) == (
        OUTPUTS["RestApiUrl"],
        OUTPUTS["WriterApiUrl"],
        OUTPUTS["WebSocketUrl"],
    )
    assert target.outputs["UserPoolId"] == pool


@pytest.mark.parametrize("allow", [{}, {"ALLOW_PROD": "0"}, {"ALLOW_PROD": "yes"}])
def test_a_prod_stack_is_refused_unless_allowed_explicitly(aws: boto3.session.Session, allow: dict[str, str]) -> None:
    _stack(aws, "dropshop-prod", "prod")
    with pytest.raises(RefusedTarget, match="ALLOW_PROD=1"):
        e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-prod"} | allow)


def test_a_prod_stack_is_a_target_with_allow_prod(aws: boto3.session.Session) -> None:
    _stack(aws, "dropshop-prod", "prod")
    target = e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-prod", "ALLOW_PROD": "1"})
    assert target is not None
    assert target.stage == "prod"


def test_a_stack_without_the_outputs_is_refused(aws: boto3.session.Session) -> None:
    _stack(aws, "someone-else", "dev", outputs={"Other": "x"})
    with pytest.raises(RefusedTarget, match="RestApiUrl"):
        e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "someone-else"})


def test_the_runs_users_carry_its_prefix_sign_in_and_are_deleted_afterwards(aws: boto3.session.Session) -> None:
    pool = _stack(aws, "dropshop-dev", "dev")
    cognito = aws.client("cognito-idp")
    cognito.admin_create_user(UserPoolId=pool, Username="a-real-customer")
    first = e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-dev"})
    second = e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-dev"})
    assert first is not None
    assert second is not None
    assert first.prefix != second.prefix, "two runs at once never share a user"

    username, password = first.create_user("admin")
    assert username.startswith(first.prefix)
    token = first.sign_in(username, password)
    claims = json.loads(_payload(token))
    assert claims["cognito:groups"] == ["admin"]

    first.clean_up()
    remaining = [u["Username"] for u in cognito.list_users(UserPoolId=pool)["Users"]]
    assert remaining == ["a-real-customer"]


def _payload(token: str) -> str:
    import base64

    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_a_batch_jobs_credentials_come_from_the_stacks_client(aws: boto3.session.Session) -> None:
    pool = _stack(aws, "dropshop-dev", "dev")
    cognito = aws.client("cognito-idp")
    batch = cognito.create_user_pool_client(UserPoolId=pool, ClientName="batch", GenerateSecret=True)["UserPoolClient"]
    target = e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-dev"})
    assert target is not None
    endpoint = "https://dropshop-dev-123456789012.auth.eu-west-1.amazoncognito.com/oauth2/token"
    target.outputs |= {"BatchJobClientId": batch["ClientId"], "TokenEndpoint": endpoint}
    assert target.batch_job_credentials() == (endpoint, batch["ClientId"], batch["ClientSecret"])


def test_the_runs_upload_and_accounts_are_deleted_afterwards_and_nothing_else(aws: boto3.session.Session) -> None:
    _stack(aws, "dropshop-dev", "dev")
    s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
    s3.create_bucket(
        Bucket=OUTPUTS["DataBucketName"], CreateBucketConfiguration={"LocationConstraint": aws.region_name}
    )
    dynamodb.create_table(
        TableName=OUTPUTS["AccountTableName"],
        KeySchema=[{"AttributeName": "accountId", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "accountId", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    target = e2e_target.from_environment(aws, {"DROPSHOP_E2E_STACK": "dropshop-dev"})
    assert target is not None
    key = target.upload("accounts.ndjson", b"{}")
    assert key == f"incoming/{target.prefix}accounts.ndjson"
    s3.put_object(Bucket=target.data_bucket, Key="incoming/a-real-feed.ndjson", Body=b"{}")
    account = target.account_id("writer")
    for owner, version in [(account, "1"), (account, "2"), ("a-real-account", "1")]:
        dynamodb.put_item(
            TableName=OUTPUTS["AccountTableName"], Item={"accountId": {"S": owner}, "version": {"S": version}}
        )
    assert len(target.stored_account(account)) == 2

    target.clean_up()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=target.data_bucket)["Contents"]] == [
        "incoming/a-real-feed.ndjson"
    ]
    assert target.stored_account(account) == []
    assert [i["accountId"]["S"] for i in dynamodb.scan(TableName=OUTPUTS["AccountTableName"])["Items"]] == [
        "a-real-account"
    ]
