"""`make preflight`: each check on moto, or on botocore's Stubber where moto has no such API (named below)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import example, given
from hypothesis import strategies as st
from moto import mock_aws

from tools import preflight
from tools.preflight import Check, Target

ADDRESS = "orders+dev@shop.example.org"  # example.org is reserved: used only where the address is not judged
OWN_ADDRESS = "orders+dev@dropshop.io"


def target(**parameters: str) -> Target:
    return Target(env="default", stack_name="dropshop-dev", parameters={"Stage": "dev", **parameters})


@pytest.fixture
def aws(aws_session: boto3.session.Session) -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield aws_session


# ---------------------------------------------------------------- stack name


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.", min_size=1, max_size=60))
@example("dropshop-dev")
@example("Dropshop-dev")
@example("a" * 49)
@example("a" * 50)
@example("myaws-shop")
def test_a_stack_name_passes_exactly_when_the_pool_domain_and_the_hook_name_accept_it(name: str) -> None:
    accepted = (
        name[0].isalpha()
        and name == name.lower()
        and all(c.isalnum() or c == "-" for c in name)
        and len(name) <= 49
        and not any(word in name for word in ("aws", "amazon", "cognito"))
    )
    check = preflight.stack_name(Target(env="default", stack_name=name, parameters={}))
    assert check.passed == accepted
    assert check.blocks


# ---------------------------------------------------------------- sender


@pytest.mark.parametrize(
    "address",
    ["", "orders", "orders@localhost", "orders+dev@dropshop.example", "a@b.test", "o@shop.example.com", "x@y.invalid"],
)
def test_a_sender_no_verification_link_can_reach_blocks_the_deploy(address: str) -> None:
    check = preflight.sender_address(target(SenderEmail=address))
    assert (check.passed, check.blocks) == (False, True)
    assert "SenderEmail" in check.label


def test_a_sender_at_a_real_domain_passes() -> None:
    assert preflight.sender_address(target(SenderEmail=OWN_ADDRESS)).passed


def test_a_sender_identity_the_deploy_will_create_is_a_warning(aws: boto3.session.Session) -> None:
    sesv2, cloudformation = aws.client("sesv2"), aws.client("cloudformation")
    check = preflight.sender_identity(sesv2, cloudformation, target(SenderEmail=OWN_ADDRESS))
    assert (check.passed, check.blocks) == (False, False)
    assert "verification link" in check.fix


def test_a_sender_identity_made_outside_the_stack_blocks_it_creating_its_own(aws: boto3.session.Session) -> None:
    sesv2 = aws.client("sesv2")
    sesv2.create_email_identity(EmailIdentity=OWN_ADDRESS)
    check = preflight.sender_identity(sesv2, aws.client("cloudformation"), target(SenderEmail=OWN_ADDRESS))
    assert (check.passed, check.blocks) == (False, True)
    assert "outside this stack" in check.fix


def test_the_stacks_own_unverified_identity_is_a_warning_to_click_the_link(aws: boto3.session.Session) -> None:
    sesv2 = aws.client("sesv2")
    sesv2.create_email_identity(EmailIdentity=OWN_ADDRESS)
    # moto's CloudFormation cannot create AWS::SES::EmailIdentity: the stack's answer is stubbed.
    cloudformation = aws.client("cloudformation")
    with Stubber(cloudformation) as stub:
        detail = {
            "LogicalResourceId": "SenderIdentity",
            "PhysicalResourceId": OWN_ADDRESS,
            "ResourceType": "AWS::SES::EmailIdentity",
            "LastUpdatedTimestamp": "2026-12-07T00:00:00Z",
            "ResourceStatus": "CREATE_COMPLETE",
        }
        stub.add_response("describe_stack_resource", {"StackResourceDetail": detail})
        check = preflight.sender_identity(sesv2, cloudformation, target(SenderEmail=OWN_ADDRESS))
    assert (check.passed, check.blocks) == (False, False)
    assert "click the link" in check.fix


# moto has no sesv2 GetAccount: SES's answer (API reference, GetAccount) is stubbed.
@pytest.mark.parametrize(("stage", "blocks"), [("dev", False), ("prod", True)])
def test_the_ses_sandbox_blocks_prod_and_warns_dev(aws: boto3.session.Session, stage: str, blocks: bool) -> None:
    sesv2 = aws.client("sesv2")
    with Stubber(sesv2) as stub:
        stub.add_response("get_account", {"ProductionAccessEnabled": False, "SendingEnabled": True})
        check = preflight.ses_production_access(sesv2, target(Stage=stage))
    assert (check.passed, check.blocks) == (False, blocks)
    assert "production access" in check.fix


# ---------------------------------------------------------------- Lambda concurrency


def _concurrency(aws: boto3.session.Session, quota: int, unreserved: int, reserve: str) -> Check:
    # moto has no GetAccountSettings: Lambda's answer (API reference, GetAccountSettings) is stubbed.
    client = aws.client("lambda")
    with Stubber(client) as stub:
        limits: dict[str, Any] = {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": quota,
            "UnreservedConcurrentExecutions": unreserved,
        }
        stub.add_response("get_account_settings", {"AccountLimit": limits, "AccountUsage": {}})
        return preflight.lambda_concurrency(client, target(ReserveConcurrency=reserve))


def test_the_template_reserves_nothing_unless_asked_and_35_when_asked() -> None:
    assert preflight.reserved_concurrency(target(ReserveConcurrency="off")) == 0
    assert preflight.reserved_concurrency(target(ReserveConcurrency="on")) == 20 + 10 + 5


def test_reservations_a_new_accounts_quota_cannot_hold_block_the_deploy(aws: boto3.session.Session) -> None:
    check = _concurrency(aws, quota=10, unreserved=10, reserve="on")
    assert (check.passed, check.blocks) == (False, True)
    assert "ReserveConcurrency=off" in check.fix


def test_a_new_accounts_small_quota_without_reservations_only_warns(aws: boto3.session.Session) -> None:
    check = _concurrency(aws, quota=10, unreserved=10, reserve="off")
    assert (check.passed, check.blocks) == (False, False)
    assert "L-B99A9384" in check.fix


@pytest.mark.parametrize(("unreserved", "passes"), [(135, True), (134, False)])
def test_reservations_must_leave_100_unreserved(aws: boto3.session.Session, unreserved: int, passes: bool) -> None:
    assert _concurrency(aws, quota=1000, unreserved=unreserved, reserve="on").passed == passes


# ---------------------------------------------------------------- API Gateway's logging role


def test_api_gateway_without_a_logging_role_blocks_until_make_account(aws: boto3.session.Session) -> None:
    apigateway = aws.client("apigateway")
    check = preflight.api_gateway_logging_role(apigateway)
    assert (check.passed, check.blocks) == (False, True)
    assert "make account" in check.fix
    role = "arn:aws:iam::123456789012:role/dropshop-account-ApiGatewayCloudWatchRole"
    apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
    assert preflight.api_gateway_logging_role(apigateway).passed


# ---------------------------------------------------------------- what it reads and how it ends


def test_the_target_is_samconfigs_stack_and_parameters_over_the_templates_defaults(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        'version = 0.1\n[prod.global.parameters]\nstack_name = "dropshop-prod"\n'
        '[prod.deploy.parameters]\nparameter_overrides = "Stage=prod SenderEmail=orders@shop.io '
        'FrontendOrigin=\\"https://shop.io\\""\n'
    )
    loaded = preflight.load_target("prod", samconfig=samconfig)
    assert loaded.stack_name == "dropshop-prod"
    assert loaded.is_prod
    assert loaded.parameters["SenderEmail"] == "orders@shop.io"
    assert loaded.parameters["FrontendOrigin"] == "https://shop.io"
    assert loaded.parameters["ReserveConcurrency"] == "off"  # the template's default
    assert preflight.load_target("prod", "other-stack", samconfig=samconfig).stack_name == "other-stack"


def test_a_blocker_exits_non_zero_and_says_how_to_fix_each_line(
    aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto has no sesv2 GetAccount nor Lambda GetAccountSettings: those two clients answer through Stubber.
    sesv2, lambda_client = aws.client("sesv2"), aws.client("lambda")
    stubs = [Stubber(sesv2), Stubber(lambda_client)]
    stubs[0].add_response("get_account", {"ProductionAccessEnabled": True})
    limits = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}
    stubs[1].add_response("get_account_settings", {"AccountLimit": limits})
    stubbed = {"sesv2": sesv2, "lambda": lambda_client}

    class Session:
        region_name = aws.region_name

        def client(self, service: str) -> Any:
            return stubbed.get(service) or aws.client(service)

    monkeypatch.setattr(preflight.boto3.session, "Session", Session)
    for stub in stubs:
        stub.activate()
    assert preflight.main(["--env", "dev", "--stack", "Dropshop-Dev"]) == 1
    out = capsys.readouterr().out
    assert "✗ stack name 'Dropshop-Dev'" in out
    assert "✗ SenderEmail" in out
    assert "✓ SES production access" in out
    assert "✓ Lambda concurrency: quota 1000, 1000 unreserved, the template reserves 0" in out
    assert "✗ API Gateway has no CloudWatch logging role\n    → run `make account`" in out


@pytest.mark.parametrize("exists", [False, True])
def test_cognito_mailing_through_an_unverified_identity_blocks(aws: boto3.session.Session, exists: bool) -> None:
    """Cognito refuses a SourceArn that is not verified (EmailConfigurationType): the pool update would fail."""
    sesv2, cloudformation = aws.client("sesv2"), aws.client("cloudformation")
    parameters = {"SenderEmail": OWN_ADDRESS, "CognitoEmail": "ses"}
    if not exists:
        check = preflight.sender_identity(sesv2, cloudformation, target(**parameters))
    else:
        sesv2.create_email_identity(EmailIdentity=OWN_ADDRESS)  # moto's identities stay unverified
        with Stubber(cloudformation) as stub:  # the stack's own identity (moto cannot create one through a stack)
            detail = {
                "LogicalResourceId": "SenderIdentity",
                "PhysicalResourceId": OWN_ADDRESS,
                "ResourceType": "AWS::SES::EmailIdentity",
                "LastUpdatedTimestamp": "2026-12-07T00:00:00Z",
                "ResourceStatus": "CREATE_COMPLETE",
            }
            stub.add_response("describe_stack_resource", {"StackResourceDetail": detail})
            check = preflight.sender_identity(sesv2, cloudformation, target(**parameters))
    assert (check.passed, check.blocks) == (False, True)
    assert "CognitoEmail=cognito" in check.fix
