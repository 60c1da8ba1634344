"""Sign a user in to the stack's user pool and print their ID token (or access token), or fill the ID token
into a sample event; or get the access token a batch job sends to POST /writer.

    python -m tools.token --username jane --password '...'                       # prints the ID token
    python -m tools.token --username ada --password '...' --access                # an admin's token for POST /writer
    python -m tools.token --username jane --password '...' --event events/session/get-session.json
        # writes events/session/get-session.local.json (git-ignored) for `sam local invoke -e`
    python -m tools.token --client-credentials                                    # a batch job's access token

The app client comes from --client-id, $USER_POOL_CLIENT_ID, or the stack's `UserPoolClientId` output; a
batch job's client, secret and token endpoint from the stack (`BatchJobClientId`, `TokenEndpoint`) unless
given. Set AWS_ENDPOINT_URL to sign in against a local AWS instead of the real one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import jwt

from tools.aws_errors import one_line

DEFAULT_STACK = "dropshop-dev"
PIPELINE_WRITE = "dropshop/pipeline.write"


def stack_outputs(stack_name: str) -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def client_id_from_stack(stack_name: str) -> str:
    return stack_outputs(stack_name)["UserPoolClientId"]


def batch_job_client_from_stack(stack_name: str) -> tuple[str, str, str]:
    """The token endpoint, client id and secret of the stack's batch-job app client."""
    outputs = stack_outputs(stack_name)
    client = boto3.client("cognito-idp").describe_user_pool_client(
        UserPoolId=outputs["UserPoolId"], ClientId=outputs["BatchJobClientId"]
    )["UserPoolClient"]
    return outputs["TokenEndpoint"], client["ClientId"], client["ClientSecret"]


def client_credentials(token_url: str, client_id: str, client_secret: str, scope: str = PIPELINE_WRITE) -> str:
    """OAuth2 client credentials at the user pool domain: the access token a batch job sends to POST /writer."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the stack's own token endpoint (https, or the local stack)
        token_url,
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope}).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        token: str = json.loads(response.read())["access_token"]
    return token


def sign_in(client_id: str, username: str, password: str, *, access: bool = False) -> str:
    """The user's ID token, or with `access` their access token: what POST /writer takes from an admin (the
    pool's pre token generation trigger adds `dropshop/pipeline.write` to admins' access tokens)."""
    result = boto3.client("cognito-idp").initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    token: str = result["AuthenticationResult"]["AccessToken" if access else "IdToken"]
    return token


def fill_event(template: Path, id_token: str) -> Path:
    """Fill the event's {{ID_TOKEN}}, {{SUB}}, {{USERNAME}}, {{GROUPS}}, {{USER_POOL_ID}} and {{CLIENT_ID}};
    returns the .local.json path."""
    # Only reading our own fresh token's claims to fill the sample; the functions (or the authorizer) verify it.
    claims: dict[str, Any] = jwt.decode(id_token, options={"verify_signature": False})
    text = template.read_text()
    for placeholder, value in {
        "ID_TOKEN": id_token,
        "SUB": str(claims["sub"]),
        "USERNAME": str(claims.get("cognito:username", claims["sub"])),
        # As API Gateway's Cognito authorizer passes the groups on: names joined by commas.
        "GROUPS": ",".join(claims.get("cognito:groups", [])),
        # The pool and app client the token comes from (Cognito trigger events name both).
        "USER_POOL_ID": str(claims["iss"]).rsplit("/", 1)[-1],
        "CLIENT_ID": str(claims.get("aud", "")),
    }.items():
        text = text.replace("{{" + placeholder + "}}", value)
    target = template.with_suffix(".local.json")
    target.write_text(text)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--stack", default=DEFAULT_STACK)
    parser.add_argument("--event", type=Path, default=None)
    parser.add_argument("--client-credentials", action="store_true", help="a batch job's access token")
    parser.add_argument("--access", action="store_true", help="the user's access token (an admin's: POST /writer)")
    args = parser.parse_args(argv)
    with one_line("token", local_hint="`make token AS=customer` for the stack `make local` runs"):
        return _print_token(parser, args)


def _print_token(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.client_credentials:
        print(client_credentials(*batch_job_client_from_stack(args.stack)))
        return 0
    if not args.username or not args.password:
        parser.error("give --username and --password (make token LOGIN=... PASSWORD=...)")
    if args.access and args.event:
        parser.error("sample events take the ID token: --event without --access")

    client_id = args.client_id or os.environ.get("USER_POOL_CLIENT_ID") or client_id_from_stack(args.stack)
    token = sign_in(client_id, args.username, args.password, access=args.access)
    if args.event:
        print(fill_event(args.event, token))
    else:
        print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
