"""Before a deploy: what a new AWS account lacks for this stack, each with how to fix it. Read calls only.

    python -m tools.preflight --env dev            # samconfig.toml's [default] stack and parameters
    python -m tools.preflight --env prod --stack dropshop-prod-eu

One line per check: ✓ passes, ! a warning (the stack deploys, something will not work as hoped), ✗ a blocker
(the deploy would fail, or deploy something that cannot work). Exits 1 when any check blocks.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from samcli.yamlhelper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
CONFIG_ENVS = {"dev": "default", "default": "default", "prod": "prod"}

# The canary hook is named CodeDeployHook_<stack> and a function name has at most 64 characters.
MAX_STACK_NAME = 64 - len("CodeDeployHook_")
# Cognito domain prefixes: lower-case letters, digits and hyphens, and none of these words.
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
COGNITO_RESERVED_WORDS = ("aws", "amazon", "cognito")
# RFC 2606 / RFC 6761: no mail is ever delivered there, so SES's verification link cannot arrive.
RESERVED_MAIL_DOMAINS = re.compile(r"(^|\.)(example|test|invalid|localhost|example\.(com|net|org))$", re.IGNORECASE)
# Lambda keeps this much of the account's concurrency unreserved (or the whole quota when it is smaller).
UNRESERVED_MINIMUM = 100
LAMBDA_QUOTA_CODE = "L-B99A9384"


@dataclass(frozen=True)
class Check:
    passed: bool
    label: str
    fix: str = ""
    blocks: bool = True  # a failed check that only warns does not stop the deploy

    def line(self) -> str:
        mark = "✓" if self.passed else ("✗" if self.blocks else "!")
        return f"{mark} {self.label}" + ("" if self.passed else f"\n    → {self.fix}")


@dataclass(frozen=True)
class Target:
    """What `sam deploy --config-env <env>` would create: a stack name and the template's parameters."""

    env: str
    stack_name: str
    parameters: dict[str, str]

    @property
    def is_prod(self) -> bool:
        return self.parameters.get("Stage") == "prod"


def load_target(env: str, stack: str | None = None, samconfig: Path = SAMCONFIG, template: Path = TEMPLATE) -> Target:
    config_env = CONFIG_ENVS.get(env, env)
    config = tomllib.loads(samconfig.read_text()).get(config_env, {})
    deploy = config.get("deploy", {}).get("parameters", {})
    name = stack or deploy.get("stack_name") or config.get("global", {}).get("parameters", {}).get("stack_name", "")
    defaults = {k: str(v.get("Default", "")) for k, v in yaml_parse(template.read_text())["Parameters"].items()}
    overrides = dict(item.split("=", 1) for item in shlex.split(deploy.get("parameter_overrides", "")) if "=" in item)
    return Target(env=config_env, stack_name=str(name), parameters=defaults | overrides)


def reserved_concurrency(target: Target, template: Path = TEMPLATE) -> int:
    """Units the template reserves with these parameters (`!If [ReservesConcurrency, n, NoValue]` or a number)."""
    reserves = target.parameters.get("ReserveConcurrency") == "on"
    total = 0
    for resource in yaml_parse(template.read_text())["Resources"].values():
        value = resource.get("Properties", {}).get("ReservedConcurrentExecutions")
        if isinstance(value, dict) and "Fn::If" in value:
            value = value["Fn::If"][1] if reserves else None
        total += int(value) if isinstance(value, int | str) else 0
    return total


def stack_name(target: Target) -> Check:
    name = target.stack_name
    label = f"stack name {name!r}"
    if not STACK_NAME.match(name):
        fix = "use lower-case letters, digits and hyphens, starting with a letter (the user pool's domain prefix)"
        return Check(False, label, f"{fix}: stack_name in samconfig.toml, or STACK=<name>")
    if len(name) > MAX_STACK_NAME:
        return Check(False, label, f"at most {MAX_STACK_NAME} characters (the canary hook is CodeDeployHook_<stack>)")
    if any(word in name for word in COGNITO_RESERVED_WORDS):
        words = ", ".join(COGNITO_RESERVED_WORDS)
        return Check(False, label, f"Cognito refuses domain prefixes containing {words}: choose another stack name")
    return Check(True, f"{label}: lower-case, {len(name)} ≤ {MAX_STACK_NAME} characters")


def sender_address(target: Target) -> Check:
    address = target.parameters.get("SenderEmail", "")
    if not address:
        fix = "add SenderEmail=orders@<a domain you receive mail at> to parameter_overrides in samconfig.toml"
        return Check(False, "SenderEmail", fix)
    domain = address.rpartition("@")[2]
    if "@" not in address or "." not in domain:
        return Check(False, f"SenderEmail {address!r}", "an e-mail address, name@domain")
    if RESERVED_MAIL_DOMAINS.search(domain):
        fix = f"{domain} is reserved (RFC 2606): SES's verification link can never arrive; use a domain you own"
        return Check(False, f"SenderEmail {address!r}", fix)
    return Check(True, f"SenderEmail {address!r}")


def sender_identity(sesv2: Any, cloudformation: Any, target: Target) -> Check:
    """The stack creates the sender's SES identity: one that exists outside it fails the stack's creation, and
    until its owner clicks SES's link no e-mail leaves."""
    address = target.parameters.get("SenderEmail", "")
    if not address:
        return Check(False, "SES sender identity", "set SenderEmail first")
    try:
        identity = sesv2.get_email_identity(EmailIdentity=address)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
        if target.parameters.get("CognitoEmail") == "ses":
            fix = "the first deploy creates it: deploy with CognitoEmail=cognito, click SES's link, then switch"
            return Check(False, f"SES identity {address} does not exist yet", fix)
        fix = f"the deploy creates it: SES mails a verification link to {address}; click it before the first order"
        return Check(False, f"SES identity {address} does not exist yet", fix, blocks=False)
    if not _stack_owns(cloudformation, target.stack_name, address):
        fix = "it exists outside this stack, which creates its own: delete it in SES or choose another SenderEmail"
        return Check(False, f"SES identity {address}", fix)
    if not identity.get("VerifiedForSendingStatus"):
        fix = f"click the link SES mailed to {address}"
        if target.parameters.get("CognitoEmail") == "ses":  # Cognito refuses an unverified SourceArn
            return Check(
                False, f"SES identity {address} is not verified", f"{fix}, or deploy with CognitoEmail=cognito"
            )
        return Check(False, f"SES identity {address} is not verified", fix, blocks=False)
    return Check(True, f"SES identity {address} is verified")


def _stack_owns(cloudformation: Any, stack: str, address: str) -> bool:
    try:
        resource = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId="SenderIdentity")
    except ClientError:
        return False  # no such stack (or no such resource in it)
    return bool(resource["StackResourceDetail"].get("PhysicalResourceId") == address)


def ses_production_access(sesv2: Any, target: Target) -> Check:
    account = sesv2.get_account()
    if account.get("ProductionAccessEnabled"):
        return Check(True, "SES production access (any customer can be mailed)")
    fix = "request production access (SES console → Account dashboard); the sandbox mails verified addresses only"
    return Check(False, "SES is in the sandbox", fix, blocks=target.is_prod)


def lambda_concurrency(lambda_client: Any, target: Target, template: Path = TEMPLATE) -> Check:
    limits = lambda_client.get_account_settings()["AccountLimit"]
    quota, unreserved = int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"])
    wanted = reserved_concurrency(target, template)
    minimum = min(UNRESERVED_MINIMUM, quota)
    label = f"Lambda concurrency: quota {quota}, {unreserved} unreserved, the template reserves {wanted}"
    if wanted and unreserved - wanted < minimum:
        fix = (
            f"Lambda must keep {minimum} unreserved: deploy with ReserveConcurrency=off, or ask Service Quotas "
            f"for more ({LAMBDA_QUOTA_CODE}, Lambda concurrent executions)"
        )
        return Check(False, label, fix)
    if quota < 2 * UNRESERVED_MINIMUM:
        fix = f"a burst of telemetry will throttle orders: ask Service Quotas for more ({LAMBDA_QUOTA_CODE})"
        return Check(False, label, fix, blocks=False)
    return Check(True, label)


def api_gateway_logging_role(apigateway: Any) -> Check:
    role = apigateway.get_account().get("cloudwatchRoleArn")
    if role:
        return Check(True, f"API Gateway logging role {role}")
    fix = "run `make account` once per account and region (the stack's APIs write access logs with this role)"
    return Check(False, "API Gateway has no CloudWatch logging role", fix)


def run(target: Target, session: Any) -> list[Check]:
    identity = session.client("sts").get_caller_identity()
    checks = [Check(True, f"credentials: {identity['Arn']} in {session.region_name}")]
    sesv2, cloudformation = session.client("sesv2"), session.client("cloudformation")
    steps: Iterable[Callable[[], Check]] = (
        lambda: stack_name(target),
        lambda: sender_address(target),
        lambda: sender_identity(sesv2, cloudformation, target),
        lambda: ses_production_access(sesv2, target),
        lambda: lambda_concurrency(session.client("lambda"), target),
        lambda: api_gateway_logging_role(session.client("apigateway")),
    )
    for step in steps:
        try:
            checks.append(step())
        except (ClientError, BotoCoreError) as error:
            checks.append(Check(False, "a read call failed", f"{error} (the checks need read access)"))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="dev or prod (samconfig.toml's [default] or [prod])")
    parser.add_argument("--stack", default=None, help="a stack name other than samconfig.toml's")
    args = parser.parse_args(argv)
    target = load_target(args.env, args.stack)
    print(f"Preflight for {target.stack_name} ({args.env}):")
    checks = run(target, boto3.session.Session())
    for check in checks:
        print(check.line())
    blocked = [c for c in checks if not c.passed and c.blocks]
    print(f"{len(blocked)} blocker(s)." if blocked else "Ready to deploy.")
    return 1 if blocked else 0


if __name__ == "__main__":
    sys.exit(main())
