"""Where the journeys suite (tests/e2e) runs: the local stack, or a deployed stack named by the environment.

    DROPSHOP_E2E_STACK=dropshop-dev pytest tests/e2e       # what `make e2e ENV=dev` (or STACK=<name>) runs
    DROPSHOP_E2E_STACK=dropshop-prod ALLOW_PROD=1 ...       # a prod stack only when told explicitly

A deployed target is read from the stack's CloudFormation outputs. The suite's users are its own, created
under a prefix unique to the run (`e2e-<run id>-`) and deleted when it ends; nothing of a real user is used.
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
REQUIRED_OUTPUTS = ("RestApiUrl", "WriterApiUrl", "WebSocketUrl", "UserPoolId", "UserPoolClientId")


class RefusedTarget(Exception):
    """The suite would write to a stack it must not touch."""


@dataclass
class DeployedStack:
    name: str
    stage: str
    outputs: dict[str, str]
    cognito: Any
    prefix: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:10]}-")
    created: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.outputs["RestApiUrl"]

    @property
    def writer_url(self) -> str:
        return self.outputs["WriterApiUrl"]

    @property
    def websocket_url(self) -> str:
        return self.outputs["WebSocketUrl"]

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
        """Deletes every user the run created (and only those: each name carries the run's prefix)."""
        for username in self.created:
            if not username.startswith(self.prefix):
                raise RefusedTarget(f"{username} is not this run's user")
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
    return DeployedStack(name=stack, stage=stage, outputs=outputs, cognito=session.client("cognito-idp"))


def from_environment(session: Any = None, environment: Mapping[str, str] = os.environ) -> DeployedStack | None:
    """The deployed stack DROPSHOP_E2E_STACK names, or None: the local stack."""
    stack = environment.get(STACK_VARIABLE)
    if not stack:
        return None
    if session is None:
        import boto3

        session = boto3.session.Session()
    return deployed(stack, session, environment)
