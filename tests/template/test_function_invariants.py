"""What holds for every function in template.yaml; a new function is checked without touching this file."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from tests.template.conftest import FUNCTIONS, ROOT, Template, function_properties, of_type


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _code_dir(template: Template, name: str) -> Path:
    return ROOT / function_properties(template, name)["CodeUri"]


def _handler_file(template: Template, name: str) -> tuple[Path, str]:
    module, _, function = function_properties(template, name)["Handler"].rpartition(".")
    return _code_dir(template, name) / f"{module.replace('.', '/')}.py", function


def _imported_top_level_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports stay inside the function's own directory
                continue
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("name", FUNCTIONS)
def test_handler_exists_and_defines_its_entry_point(template: Template, name: str) -> None:
    path, function = _handler_file(template, name)
    assert path.is_file(), f"{name}: handler file {path.relative_to(ROOT)} is missing"
    tree = ast.parse(path.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert function in defined, f"{name}: {path.relative_to(ROOT)} does not define {function}()"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_handler_imports_only_the_shared_layer_and_its_own_modules(template: Template, name: str) -> None:
    path, _ = _handler_file(template, name)
    own_modules = {p.stem for p in path.parent.glob("*.py")}
    foreign = _imported_top_level_names(path.read_text()) - {"dropshop", "__future__"} - own_modules
    assert not foreign, f"{name}: the handler imports {sorted(foreign)}; business code belongs in dropshop"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_has_sample_events(template: Template, name: str) -> None:
    events_dir = ROOT / "events" / _code_dir(template, name).name
    samples = sorted(events_dir.glob("*.json"))
    samples = [s for s in samples if not s.name.endswith(".local.json")]
    assert samples, f"{name}: no sample events in {events_dir.relative_to(ROOT)}/"
    for sample in samples:
        assert isinstance(json.loads(sample.read_text()), dict), f"{sample.relative_to(ROOT)} is not a JSON event"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_publishes_a_live_alias_on_any_change(template: Template, name: str) -> None:
    props = function_properties(template, name)
    assert props.get("AutoPublishAlias") == "live", f"{name}: AutoPublishAlias must be live"
    assert template["Resources"][name]["Properties"].get("AutoPublishAliasAllProperties") is True, (
        f"{name}: AutoPublishAliasAllProperties: true is what makes a layer-only change publish a version"
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_deploys_by_the_canary_parameter_guarded_by_its_own_error_alarm(
    template: Template, name: str
) -> None:
    if str(template["Resources"][name]["Properties"].get("FunctionName", {}).get("Fn::Sub", "")).startswith(
        "CodeDeployHook_"
    ):
        pytest.skip("a deployment hook judges the others' canaries; CodeDeploy runs its latest code, no alias")
    preference = function_properties(template, name).get("DeploymentPreference") or {}
    assert _ref(preference.get("Type")) == "DeploymentType", (
        f"{name}: DeploymentPreference.Type must !Ref DeploymentType"
    )
    assert template["Parameters"]["DeploymentType"]["Default"] == "Canary10Percent5Minutes"
    alarms = template["Resources"]
    alarm_names = [_ref(a) for a in preference.get("Alarms", [])]
    assert alarm_names, f"{name}: DeploymentPreference.Alarms is empty: nothing would roll a bad canary back"
    for alarm in alarm_names:
        assert alarm in alarms, f"{name}: alarm {alarm} is not in the template"
        assert alarms[alarm]["Type"] == "AWS::CloudWatch::Alarm"
    watched = [
        alarms[a]["Properties"]
        for a in alarm_names
        if any(_ref(d["Value"]) == name for d in alarms[a]["Properties"].get("Dimensions", []))
    ]
    assert any(p.get("MetricName") == "Errors" for p in watched), f"{name}: no Errors alarm on this function"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_sets_memory_and_timeout_explicitly(template: Template, name: str) -> None:
    props = template["Resources"][name]["Properties"]
    assert isinstance(props.get("MemorySize"), int), f"{name}: MemorySize must be set on the function"
    assert isinstance(props.get("Timeout"), int), f"{name}: Timeout must be set on the function"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_is_traced_and_logs_to_a_group_with_retention(template: Template, name: str) -> None:
    props = function_properties(template, name)
    assert props.get("Tracing") == "Active", f"{name}: X-Ray tracing must be Active"
    group = _ref((props.get("LoggingConfig") or {}).get("LogGroup"))
    assert group, f"{name}: LoggingConfig.LogGroup must !Ref a log group of this template"
    log_group = template["Resources"][group]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"].get("RetentionInDays"), f"{name}: log group {group} keeps logs forever"


def _statements(translated: Template) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for name, resource in translated["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents = [props["PolicyDocument"]]
        else:
            continue
        for document in documents:
            found += [(name, statement) for statement in document.get("Statement", [])]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_iam_statement_grants_a_wildcard_action(translated: Template) -> None:
    statements = _statements(translated)
    assert statements, "expected the translated template to carry IAM statements"
    wildcards = [
        (name, action)
        for name, statement in statements
        for action in _as_list(statement.get("Action", []))
        if isinstance(action, str) and "*" in action
    ]
    assert not wildcards, f"wildcard actions: {wildcards}"


# Where a resource names its dead-letter target; a stream mapping's on-failure destination is one too.
DEAD_LETTER_KEYS = {"RedrivePolicy", "DeadLetterQueue", "DeadLetterConfig", "DestinationConfig"}


def _dead_letter_references(node: Any) -> str:
    """Every place the template names a dead-letter target: queue redrives, function DLQs, rule DLQs."""
    if isinstance(node, dict):
        return "".join(json.dumps(value) if key in DEAD_LETTER_KEYS else "" for key, value in node.items()) + "".join(
            _dead_letter_references(value) for value in node.values()
        )
    if isinstance(node, list):
        return "".join(_dead_letter_references(value) for value in node)
    return ""


def test_every_queue_has_a_dead_letter_queue_or_is_one(template: Template) -> None:
    references = _dead_letter_references(template["Resources"])
    missing = [
        name
        for name, queue in of_type(template, "AWS::SQS::Queue").items()
        if "RedrivePolicy" not in queue.get("Properties", {}) and f'"{name}"' not in references
    ]
    assert not missing, f"queues that neither redrive to a dead-letter queue nor serve as one: {missing}"


def test_topics_and_buckets_are_encrypted_and_buckets_private_and_tls_only(template: Template) -> None:
    for name, topic in of_type(template, "AWS::SNS::Topic").items():
        assert topic["Properties"].get("KmsMasterKeyId"), f"{name}: SNS topic is not encrypted"
    policies = of_type(template, "AWS::S3::BucketPolicy").values()
    for name, bucket in of_type(template, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props.get("BucketEncryption"), f"{name}: bucket is not encrypted"
        block = props.get("PublicAccessBlockConfiguration", {})
        assert all(
            block.get(k) is True
            for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        ), name
        tls = [
            s
            for p in policies
            if _ref(p["Properties"]["Bucket"]) == name
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s.get("Effect") == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition", {}))
        ]
        assert tls, f"{name}: no bucket policy denies requests without TLS"


def _queue_event_sources(template: Template) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, event_name, spec["Properties"])
        for name in FUNCTIONS
        for event_name, spec in template["Resources"][name]["Properties"].get("Events", {}).items()
        if spec["Type"] == "SQS"
    ]


def test_every_queue_consumer_reports_partial_batch_failures(template: Template) -> None:
    sources = _queue_event_sources(template)
    assert sources, "expected SQS event sources in the template"
    for name, event, props in sources:
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], f"{name}.{event}"
        assert props.get("ScalingConfig", {}).get("MaximumConcurrency"), f"{name}.{event}: cap the poller's concurrency"


def test_every_consumed_queue_hides_messages_at_least_six_times_the_function_timeout_plus_the_window(
    template: Template,
) -> None:
    for name, event, props in _queue_event_sources(template):
        queue = props["Queue"]["Fn::GetAtt"]
        queue_name = queue.split(".")[0] if isinstance(queue, str) else queue[0]
        visibility = template["Resources"][queue_name]["Properties"].get("VisibilityTimeout", 30)
        # AWS: at least six times the timeout, plus the batching window the poller holds messages for.
        needed = 6 * function_properties(template, name)["Timeout"] + props.get("MaximumBatchingWindowInSeconds", 0)
        assert visibility >= needed, f"{name}.{event}: {queue_name} VisibilityTimeout {visibility} < {needed}"


def test_post_writer_sends_the_body_to_the_writer_queue_without_a_lambda_behind_a_jwt_authorizer(
    template: Template, translated: Template
) -> None:
    definition = template["Resources"]["WriterHttpApi"]["Properties"]["DefinitionBody"]
    integration = definition["paths"]["/writer"]["post"]["x-amazon-apigateway-integration"]
    assert integration["integrationSubtype"] == "SQS-SendMessage"
    assert _ref(integration["requestParameters"]["QueueUrl"]) == "WriterQueue"
    assert integration["requestParameters"]["MessageBody"] == "$request.body"
    # The Writer reads a message without a `source` attribute as the API's (dropshop.ingestion.messages); a
    # static MessageAttributes would fail the import (tests/template/test_first_deploy.py).
    assert "MessageAttributes" not in integration["requestParameters"]

    # What API Gateway receives: SAM has put the API's JWT authorizer on the route.
    body = translated["Resources"]["WriterHttpApi"]["Properties"]["Body"]
    (requirement,) = body["paths"]["/writer"]["post"]["security"]
    (scheme,) = requirement
    authorizer = body["components"]["securitySchemes"][scheme]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert "UserPoolClient" in [_ref(a) for a in authorizer["jwtConfiguration"]["audience"]]

    role = template["Resources"][integration["credentials"]["Fn::GetAtt"][0]]["Properties"]
    (statement,) = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["WriterQueue", "Arn"]}
