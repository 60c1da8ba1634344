"""The delivery pipeline: GitHub's workflows and the OIDC deploy role they assume (account/template.yaml)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse

from tests.template.conftest import ROOT, Template, for_parameters, of_type
from tests.template.test_operations import load_account_template

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
REPOSITORY = "dropshop/backend"


def _workflow(path: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml_parse(path.read_text())
    return workflow


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def _make_calls(workflow: dict[str, Any]) -> list[list[str]]:
    """The targets of every `make` a step runs (arguments with `=` are variables, not targets)."""
    calls = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                words = shlex.split(line)
                if words and words[0] == "make":
                    calls.append([w for w in words[1:] if "=" not in w and not w.startswith("-")])
    return calls


def test_there_is_a_workflow_for_pull_requests_and_one_for_main() -> None:
    triggers = [_workflow(p)[True if True in _workflow(p) else "on"] for p in WORKFLOWS]
    assert {"pull_request"} in [set(t) for t in triggers]
    assert {"push"} in [set(t) for t in triggers]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_run_only_make_targets_that_exist(path: Path) -> None:
    calls = _make_calls(_workflow(path))
    assert calls, f"{path.name}: a workflow runs what a developer runs, through make"
    for targets in calls:
        assert targets, "a bare `make` runs `help`"
        assert set(targets) <= _make_targets(), f"{path.name}: {set(targets) - _make_targets()}"


def test_pull_requests_lint_and_test_and_main_goes_dev_then_its_journeys_then_prod() -> None:
    by_trigger = {next(iter(_workflow(p)[True if True in _workflow(p) else "on"])): _workflow(p) for p in WORKFLOWS}
    assert [t for call in _make_calls(by_trigger["pull_request"]) for t in call] == ["lint", "test"]
    deploy = by_trigger["push"]
    assert deploy[True if True in deploy else "on"]["push"]["branches"] == ["main"]
    dev, prod = deploy["jobs"]["dev"], deploy["jobs"]["prod"]
    assert _make_calls({"jobs": {"dev": dev}}) == [["deploy"], ["e2e"]]
    assert prod["needs"] == "dev"
    assert (dev["environment"], prod["environment"]) == ("dev", "prod")


def _pull_request_steps() -> list[dict[str, Any]]:
    workflow = _workflow(ROOT / ".github" / "workflows" / "pull-request.yml")
    (job,) = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _first_step_running(steps: list[dict[str, Any]], command: str) -> int:
    return next(i for i, step in enumerate(steps) if command in step.get("run", ""))


def test_pull_requests_pull_the_lambda_image_the_sam_local_suite_needs_before_the_tests() -> None:
    """GitHub sets CI=true: tests/samlocal then fails without the image, and samconfig's skip_pull_image
    keeps sam local from pulling it."""
    (image,) = re.findall(r'^IMAGE = "(.+)"$', (ROOT / "tests/samlocal/test_sam_local.py").read_text(), re.MULTILINE)
    steps = _pull_request_steps()
    assert _first_step_running(steps, f"docker pull {image}") < _first_step_running(steps, "make test")


def test_pull_requests_have_a_chromium_for_the_browser_suite_before_the_tests() -> None:
    steps = _pull_request_steps()
    assert _first_step_running(steps, "apt-get install -y chromium") < _first_step_running(steps, "make test")


@pytest.mark.parametrize("job", ["dev", "prod"])
def test_deploy_jobs_fail_clearly_before_using_an_unset_repository_variable(job: str) -> None:
    """GitHub expands an unset variable to "": configure-aws-credentials would fail on an empty role, or
    `--role-arn` would swallow the next word. A first step names each missing variable instead."""
    steps = _workflow(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"][job]["steps"]
    used = {v for step in steps[1:] for v in re.findall(r"\$\{\{ vars\.([A-Z_]+) \}\}", str(step))}
    assert {"AWS_REGION", "CFN_EXECUTION_ROLE_ARN", f"AWS_{job.upper()}_DEPLOY_ROLE_ARN"} <= used
    guard = steps[0]
    assert guard["env"] == {name: f"${{{{ vars.{name} }}}}" for name in used}
    assert f"for variable in {' '.join(guard['env'])}; do" in guard["run"]
    assert '[ -z "${!variable}" ]' in guard["run"]
    assert "::error::" in guard["run"]


def test_deploy_jobs_assume_the_role_through_oidc_and_store_no_keys() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "AWS_SECRET_ACCESS_KEY" not in text
        assert "aws-access-key-id" not in text
        for job in _workflow(path)["jobs"].values():
            credentials = [s for s in job["steps"] if str(s.get("uses", "")).startswith("aws-actions/configure")]
            if credentials:
                assert job["permissions"]["id-token"] == "write"
                assert "role-to-assume" in credentials[0]["with"]


@pytest.fixture(scope="module")
def pipeline() -> Template:
    return for_parameters(load_account_template(), GitHubRepository=REPOSITORY)


def test_no_pipeline_role_without_a_repository() -> None:
    resources = for_parameters(load_account_template())["Resources"]
    assert not {"GitHubOidcProvider", "GitHubDeployPolicy", "CloudFormationExecutionRole"} & set(resources)
    assert not [name for name in resources if name.startswith("GitHub")]


DEPLOY_ROLES = {"dev": "GitHubDevDeployRole", "prod": "GitHubProdDeployRole"}


@pytest.mark.parametrize("environment", DEPLOY_ROLES)
def test_each_environment_assumes_its_own_role_and_no_other_may(pipeline: Template, environment: str) -> None:
    """One role for both environments let a `dev` job (no reviewers) deploy prod: each trusts one sub."""
    role = pipeline["Resources"][DEPLOY_ROLES[environment]]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": {"Ref": "GitHubOidcProvider"}}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    # StringEquals, never StringLike: no wildcard lets a branch, a fork or a pull request in.
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": {
                "Fn::Sub": f"repo:${{GitHubRepository}}:environment:{environment}"
            },
        }
    }
    provider = pipeline["Resources"]["GitHubOidcProvider"]["Properties"]
    assert provider["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]


EXISTING_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize("environment", DEPLOY_ROLES)
def test_an_account_that_has_githubs_provider_already_trusts_it_and_creates_none(environment: str) -> None:
    """IAM has one OIDC provider per URL per account: creating a second fails the account stack."""
    account = for_parameters(
        load_account_template(), GitHubRepository=REPOSITORY, GitHubOidcProviderArn=EXISTING_PROVIDER
    )
    assert "GitHubOidcProvider" not in account["Resources"]
    (trust,) = account["Resources"][DEPLOY_ROLES[environment]]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": {"Ref": "GitHubOidcProviderArn"}}
    pattern = load_account_template()["Parameters"]["GitHubOidcProviderArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, EXISTING_PROVIDER)
    assert re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, "arn:aws:iam::123456789012:oidc-provider/example.com")


def test_make_account_passes_the_existing_provider_on() -> None:
    plan = _make_plan("account", f"GITHUB_REPOSITORY={REPOSITORY}", f"GITHUB_OIDC_PROVIDER_ARN={EXISTING_PROVIDER}")
    assert f"GitHubRepository={REPOSITORY} GitHubOidcProviderArn={EXISTING_PROVIDER}" in plan


def test_make_help_lists_every_documented_target() -> None:
    """`make help` is the front door's list: a target with a `##` line it misses (e2e) is undiscoverable."""
    import shutil
    import subprocess

    make = shutil.which("make")
    assert make is not None
    documented = set(re.findall(r"^([a-z][a-z0-9-]*):[^\n]*## ", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert "e2e" in documented
    listed = subprocess.run(  # noqa: S603 - this repository's Makefile
        [make, "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert {line.split()[1] for line in listed.splitlines() if line.strip()} == documented


def _make_plan(*arguments: str) -> str:
    import shutil
    import subprocess

    make = shutil.which("make")
    assert make is not None
    return subprocess.run(  # noqa: S603 - make's dry run of this repository's Makefile
        [make, "-n", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def _deploy_statements(pipeline: Template, environment: str) -> list[dict[str, Any]]:
    """A deploy role's statements: its own inline policy and the managed ones of the account stack it attaches."""
    role = pipeline["Resources"][DEPLOY_ROLES[environment]]
    managed = [pipeline["Resources"][arn["Ref"]] for arn in role["Properties"].get("ManagedPolicyArns", [])]
    return _statements(role) + [s for m in managed for s in m["Properties"]["PolicyDocument"]["Statement"]]


def _stack_resources(statements: list[dict[str, Any]]) -> list[str]:
    return [
        r["Fn::Sub"]
        for s in statements
        if s["Effect"] == "Allow" and any(a.startswith("cloudformation:") for a in _actions(s))
        for r in _as_list(s["Resource"])
        if isinstance(r, dict) and ":stack/" in r["Fn::Sub"]
    ]


@pytest.mark.parametrize("environment", DEPLOY_ROLES)
def test_each_deploy_role_changes_its_environments_stack_only(pipeline: Template, environment: str) -> None:
    stacks = _stack_resources(_deploy_statements(pipeline, environment))
    assert sorted(s.rsplit(":", 1)[1] for s in stacks) == sorted(
        [f"stack/${{StackPrefix}}{environment}/*", "stack/aws-sam-cli-managed-default/*"]
    )


@pytest.mark.parametrize("environment", DEPLOY_ROLES)
def test_the_deploy_roles_create_nothing_themselves_and_hand_cloudformation_its_role_only(
    pipeline: Template, environment: str
) -> None:
    statements = _deploy_statements(pipeline, environment)
    actions = {a for s in statements if s["Effect"] == "Allow" for a in _actions(s)}
    assert not any(a.endswith("*") for a in actions), "no wildcard action"
    allowed = {"iam:PassRole", "dynamodb:Query", "dynamodb:DeleteItem"}  # the last two: `make e2e`'s own accounts
    assert not {a for a in actions if a.startswith(("iam:", "lambda:Create", "dynamodb:"))} - allowed
    (passing,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passing["Resource"] == {"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]}
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}


def test_only_the_dev_role_runs_make_e2e_and_only_on_the_dev_stacks_upload_and_accounts(pipeline: Template) -> None:
    statements = {s.get("Sid"): s for s in _deploy_statements(pipeline, "dev")}
    upload, accounts = statements["EndToEndUpload"], statements["EndToEndAccounts"]
    assert (_actions(upload), _actions(accounts)) == (
        ["s3:PutObject", "s3:DeleteObject"],
        ["dynamodb:Query", "dynamodb:DeleteItem"],
    )
    assert upload["Resource"]["Fn::Sub"].endswith(":s3:::${StackPrefix}dev-databucket-*/incoming/e2e-*")
    assert accounts["Resource"]["Fn::Sub"].endswith(":table/${StackPrefix}dev-AccountTable-*")
    s3_writes = [s for s in statements.values() if "s3:PutObject" in _actions(s) and s is not upload]
    assert all("samclisourcebucket" in str(s["Resource"]) for s in s3_writes)
    users = statements["EndToEndUsers"]
    assert all(a.startswith("cognito-idp:") for a in _actions(users))
    # The prod pool's ARN matches `userpool/*` as well: only the dev stack's tag keeps an admin out of prod.
    assert users["Condition"] == {
        "StringEquals": {"aws:ResourceTag/aws:cloudformation:stack-name": {"Fn::Sub": "${StackPrefix}dev"}}
    }
    cognito = [s for s in statements.values() if any(a.startswith("cognito-idp:") for a in _actions(s))]
    assert cognito == [users]
    prod = _deploy_statements(pipeline, "prod")
    assert not [a for s in prod for a in _actions(s) if a.startswith(("cognito-idp:", "dynamodb:", "s3:Delete"))]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_only_cloudformation_may_use_the_execution_role_and_iam_only_on_the_prefix(pipeline: Template) -> None:
    role = pipeline["Resources"]["CloudFormationExecutionRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    iam = [s for s in _statements(role) if s["Effect"] == "Allow" and any(a.startswith("iam:") for a in _actions(s))]
    for allowed in iam:
        assert {r["Fn::Sub"].rsplit(":", 1)[1] for r in _as_list(allowed["Resource"])} <= {
            "role/${StackPrefix}*",
            "policy/${StackPrefix}*",
            "role/aws-service-role/email.cognito-idp.amazonaws.com/AWSServiceRoleForAmazonCognitoIdpEmailService",
        }
    (linked,) = [s for s in iam if "iam:CreateServiceLinkedRole" in _actions(s)]
    assert _actions(linked) == ["iam:CreateServiceLinkedRole"], "CognitoEmail=ses: Cognito's e-mail role only"
    assert linked["Resource"]["Fn::Sub"].endswith("/AWSServiceRoleForAmazonCognitoIdpEmailService")
    assert linked["Condition"] == {"StringEquals": {"iam:AWSServiceName": "email.cognito-idp.amazonaws.com"}}


def test_no_stack_the_pipeline_deploys_may_change_the_account_stacks_roles(pipeline: Template) -> None:
    """The account stack is `dropshop-account`: its roles match `role/${StackPrefix}*`. Without an explicit
    Deny a dev change set could rewrite the deploy roles' own trust or policies."""
    statements = _statements(pipeline["Resources"]["CloudFormationExecutionRole"])
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "iam:*"
    assert [r["Fn::Sub"].split("${AWS::AccountId}:", 1)[1] for r in deny["Resource"]] == [
        "role/${AWS::StackName}-*",
        "policy/${AWS::StackName}-*",
    ]


@pytest.mark.parametrize("environment", DEPLOY_ROLES)
def test_no_deploy_role_may_change_the_account_stack(pipeline: Template, environment: str) -> None:
    denies = [s for s in _deploy_statements(pipeline, environment) if s["Effect"] == "Deny"]
    assert [(s["Action"], s["Resource"]["Fn::Sub"].split("${AWS::AccountId}:", 1)[1]) for s in denies] == [
        ("cloudformation:*", "stack/${AWS::StackName}/*")
    ]


def test_the_execution_role_attaches_only_the_aws_managed_policies_the_app_template_uses(
    pipeline: Template, translated: Template
) -> None:
    """AttachRolePolicy on any `dropshop-*` role with any policy would let a change set attach
    AdministratorAccess: the condition lists exactly what SAM's translation of template.yaml attaches."""
    used = {
        arn["Fn::Sub"] if isinstance(arn, dict) else arn.replace("arn:aws:", "arn:${AWS::Partition}:")
        for role in of_type(translated, "AWS::IAM::Role").values()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
    }
    assert all(arn.startswith("arn:${AWS::Partition}:iam::aws:policy/") for arn in used), used
    statements = _statements(pipeline["Resources"]["CloudFormationExecutionRole"])
    attaching = [s for s in statements if s["Effect"] == "Allow" and "iam:AttachRolePolicy" in _actions(s)]
    (attach,) = attaching
    assert _actions(attach) == ["iam:AttachRolePolicy"]
    assert {r["Fn::Sub"] for r in attach["Condition"]["ArnEquals"]["iam:PolicyARN"]} == used
    assert set(attach["Condition"]) == {"ArnEquals"}


def test_the_execution_role_may_read_the_roles_it_updates_and_deletes(pipeline: Template) -> None:
    """CloudFormation's role handler lists a role's inline and attached policies, instance profiles and tags
    before it updates or deletes the role: without them a stack's update or deletion fails on AccessDenied."""
    statements = _statements(pipeline["Resources"]["CloudFormationExecutionRole"])
    reads = {
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRoleTags",
    }
    (granting,) = [s for s in statements if s["Effect"] == "Allow" and reads & set(_actions(s))]
    assert reads <= set(_actions(granting))
    assert any(r["Fn::Sub"].endswith(":role/${StackPrefix}*") for r in granting["Resource"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_make_deploy_runs_the_preflight_checks_before_anything_is_built_or_deployed() -> None:
    import shutil
    import subprocess

    make = shutil.which("make")
    assert make is not None
    plan = subprocess.run(  # noqa: S603 - make's dry run of this repository's Makefile
        [make, "-n", "deploy", "ENV=prod", "STACK=dropshop-prod-eu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    preflight = next(i for i, line in enumerate(plan) if "-m tools.preflight --env prod" in line)
    build = next(i for i, line in enumerate(plan) if "sam build" in line)
    deploy = next(i for i, line in enumerate(plan) if "sam deploy --config-env prod" in line)
    assert preflight < build < deploy
    assert '--stack "dropshop-prod-eu"' in plan[preflight]
    assert '--stack-name "dropshop-prod-eu"' in plan[deploy]
