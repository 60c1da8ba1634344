"""The template's user pool, app client and groups, created in a (moto) Cognito, and its users signed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from samcli.yamlhelper import yaml_parse

# ListUsers' Filter: `name = "value"` (exact) or `name ^= "value"` (prefix).
FILTER_HEAD = re.compile(r"\s*[\w:]+\s*\^?=\s*")
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
PASSWORD = "Correct-Horse-42"


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    client_id: str


@dataclass(frozen=True)
class SignedInUser:
    username: str
    sub: str
    id_token: str
    groups: tuple[str, ...] = ()

    @property
    def placeholders(self) -> dict[str, str]:
        """What a sample event's placeholders become for this user; groups as API Gateway's authorizer joins them."""
        return {
            "ID_TOKEN": self.id_token,
            "SUB": self.sub,
            "USERNAME": self.username,
            "GROUPS": ",".join(self.groups),
            # The app client the token was issued to (its `aud`), read from our own fresh token.
            "CLIENT_ID": str(jwt.decode(self.id_token, options={"verify_signature": False})["aud"]),
        }


def template_groups() -> list[str]:
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    return [r["Properties"]["GroupName"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolGroup"]


def create_user_pool(cognito: Any, name: str = "dropshop-users") -> UserPool:
    pool_id = cognito.create_user_pool(PoolName=name, AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="dropshop-web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    for group in template_groups():
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    return UserPool(pool_id, client_id)


def sign_up(cognito: Any, pool: UserPool, username: str, *, email: str, name: str, groups: list[str]) -> SignedInUser:
    cognito.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool.pool_id, Username=username, Password=PASSWORD, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=group)
    tokens = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    attributes = cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)["UserAttributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    return SignedInUser(username=username, sub=sub, id_token=tokens["IdToken"], groups=tuple(groups))


def filter_is_well_formed(expression: str) -> bool:
    """Whether Cognito parses a ListUsers Filter: one attribute, `=` or `^=`, and a value in quotation marks
    inside which every quotation mark is escaped with a backslash (a backslash escapes the next character)."""
    head, quote, value = expression.partition('"')
    if not quote or not FILTER_HEAD.fullmatch(head):
        return False
    escaped = False
    for position, character in enumerate(value):
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == '"':
            return position == len(value) - 1
    return False


def refuse_malformed_filters(cognito: Any) -> None:
    """Make moto's ListUsers refuse a Filter that Cognito refuses: moto takes any filter it can half-read, where the
    Cognito API reference (ListUsers, Filter) says "Quotation marks within the filter string must be escaped using
    the backslash (\\) character", and answers a parameter it cannot read with InvalidParameterException
    (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ListUsers.html)."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if "Filter" in params and not filter_is_well_formed(params["Filter"]):
            error = {"Code": "InvalidParameterException", "Message": "Error while parsing filter."}
            raise cognito.exceptions.InvalidParameterException({"Error": error}, "ListUsers")

    cognito.meta.events.register("provide-client-params.cognito-idp.ListUsers", refuse)
