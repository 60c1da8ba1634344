"""Where the journeys suite (tests/e2e) runs: the local stack, or a deployed stack named by the environment.

    DROPSHOP_E2E_STACK=dropshop-dev pytest tests/e2e       # what `make e2e ENV=dev` (or STACK=<name>) runs
    DROPSHOP_E2E_STACK=dropshop-prod ALLOW_PROD=1 ...       # a prod stack only when told explicitly

A deployed target is read from the stack's CloudFormation outputs. Everything the suite writes is its own,
under a prefix unique to the run (`e2e-<run id>-`): its users (deleted when it ends), its catalog products (in a
category named for the run; removed through the API), its uploaded file (deleted from the data bucket) and the
accounts it writes through the pipeline (deleted from the accounts table). What no API deletes stays, owned by
the run's deleted customer: its orders, their invoices and credit notes (kept, as bookkeeping requires), the
uploaded file's /files record and the pipeline's log entries. Nothing of a real user is used.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STACK_VARIABLE = "DROPSHOP_E2E_STACK"
ALLOW_PROD_VARIABLE = "ALLOW_PROD"
REQUIRED_OUTPUTS = (
    "RestApiUrl",
    "WriterApiUrl",
    "WebSocketUrl",
    "UserPoolId",
    "UserPoolClientId",
    "BatchJobClientId",
    "TokenEndpoint",
    "DataBucketName",
    "AccountTableName",
)


class RefusedTarget(Exception):
    """The suite would write to a stack it must not touch."""


@dataclass
class DeployedStack:
    name: str
    stage: str
    outputs: dict[str, str]
    cognito: Any
    s3: Any = None  # the caller's own clients: an upload is what a feed does, through S3
    dynamodb: Any = None
    prefix: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:10]}-")
    created: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.outputs["RestApiUrl"]

    @property
    def writer_url(self) -> str:
        return self.outputs["WriterApiUrl"]

    @property
    def websocket_url(self) -> str:
        return self.outputs["WebSocketUrl"]

    @property
    def data_bucket(self) -> str:
        return self.outputs["DataBucketName"]

    def upload(self, name: str, body: bytes) -> str:
        """Puts a feed file under the pipeline's prefix, named for the run; its key. Deleted by `clean_up`."""
        key = f"incoming/{self.prefix}{name}"
        self.s3.put_object(Bucket=self.data_bucket, Key=key, Body=body)
        self.uploaded.append(key)
        return key

    def account_id(self, name: str) -> str:
        """An account id of the run's own (deleted from the accounts table by `clean_up`)."""
        account = f"{self.prefix}{name}"
        self.accounts.append(account)
        return account

    def stored_account(self, account: str) -> list[dict[str, Any]]:
        """The accounts table's versions of `account`, as the Writer stored them (no API reads that table)."""
        items: list[dict[str, Any]] = self.dynamodb.query(
            TableName=self.outputs["AccountTableName"],
            KeyConditionExpression="accountId = :id",
            ExpressionAttributeValues={":id": {"S": account}},
            ConsistentRead=True,
        )["Items"]
        return items

    def create_user(self, group: str) -> tuple[str, str]:
        """A confirmed user of `group` under the run's prefix: (username, password). Deleted by `clean_up`."""
        pool = self.outputs["UserPoolId"]
        username = f"{self.prefix}{group}"
        password = f"E2e-{secrets.token_urlsafe(18)}"
        self.cognito.admin_create_user(
            UserPoolId=pool,
            Username=username,
            MessageAction="SUPPRESS",  # no invitation e-mail: the address is the run's own
            UserAttributes=[
                {"Name": "email", "Value": f"{username}@e2e.invalid"},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        self.created.append(username)
        self.cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
        self.cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
        return username, password

    def sign_in(self, username: str, password: str, kind: str = "IdToken") -> str:
        result = self.cognito.initiate_auth(
            ClientId=self.outputs["UserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        token: str = result["AuthenticationResult"][kind]
        return token

    def batch_job_credentials(self) -> tuple[str, str, str]:
        """(token endpoint, client id, secret) of the stack's batch-job client: what a batch job holds."""
        client = self.cognito.describe_user_pool_client(
            UserPoolId=self.outputs["UserPoolId"], ClientId=self.outputs["BatchJobClientId"]
        )["UserPoolClient"]
        return self.outputs["TokenEndpoint"], client["ClientId"], client["ClientSecret"]

    def clean_up(self) -> None:
        """Deletes the run's users, uploaded files and accounts (and only those: each carries the run's prefix)."""
        for name in [*self.created, *self.accounts, *(key.removeprefix("incoming/") for key in self.uploaded)]:
            if not name.startswith(self.prefix):
                raise RefusedTarget(f"{name} is not this run's")
        for key in self.uploaded:
            self.s3.delete_object(Bucket=self.data_bucket, Key=key)
        for account in self.accounts:
            for item in self.stored_account(account):
                version = {"accountId": item["accountId"], "version": item["version"]}
                self.dynamodb.delete_item(TableName=self.outputs["AccountTableName"], Key=version)
        self.uploaded.clear()
        self.accounts.clear()
        for username in self.created:
            with contextlib.suppress(self.cognito.exceptions.UserNotFoundException):
                self.cognito.admin_delete_user(UserPoolId=self.outputs["UserPoolId"], Username=username)
        self.created.clear()


def stack_outputs(cloudformation: Any, stack: str) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's outputs and parameters, by key."""
    (description,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in description.get("Parameters", [])}
    return outputs, parameters


def deployed(
    stack: str, session: Any, environment: Mapping[str, str] = os.environ, allowed_prod: bool | None = None
) -> DeployedStack:
    outputs, parameters = stack_outputs(session.client("cloudformation"), stack)
    stage = parameters.get("Stage", "")
    allow = environment.get(ALLOW_PROD_VARIABLE) == "1" if allowed_prod is None else allowed_prod
    if stage == "prod" and not allow:
        raise RefusedTarget(f"{stack} is a prod stack: the suite creates users and orders there only with ALLOW_PROD=1")
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise RefusedTarget(f"{stack} lacks the outputs {missing}: is it a Drop Shop stack, fully deployed?")
    return DeployedStack(
        name=stack,
        stage=stage,
        outputs=outputs,
        cognito=session.client("cognito-idp"),
        s3=session.client("s3"),
        dynamodb=session.client("dynamodb"),
    )


def from_environment(session: Any = None, environment: Mapping[str, str] = os.environ) -> DeployedStack | None:
    """The deployed stack DROPSHOP_E2E_STACK names, or None: the local stack."""
    stack = environment.get(STACK_VARIABLE)
    if not stack:
        return None
    if session is None:
        import boto3

        session = boto3.session.Session()
    return deployed(stack, session, environment)
