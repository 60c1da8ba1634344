"""What each function may do once deployed: its role's own statements and the AWS managed policies SAM
attaches, intersected with the function's own permissions boundary - computed on SAM's translation of the template.
What a function may poll, read and log to is derived from its Events and LoggingConfig, never listed by hand."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

import pytest

from tests.template.conftest import FUNCTIONS, Template, function_properties, load_template, packaged, translate

# The AWS managed policies SAM attaches to generated roles (their documents as AWS publishes them).
MANAGED_POLICIES: dict[str, list[str]] = {
    "service-role/AWSLambdaBasicExecutionRole": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ],
    "service-role/AWSLambdaDynamoDBExecutionRole": [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ],
    "AWSXrayWriteOnlyAccess": [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    ],
}
# Actions IAM only grants on `*`: X-Ray's, ListStreams (stream ARNs, no data) and CodeDeploy's deployment
# targets (the Service Authorization Reference lists no resource type for them; the canary hook reads them).
RESOURCELESS = set(MANAGED_POLICIES["AWSXrayWriteOnlyAccess"]) | {
    "dynamodb:ListStreams",
    "codedeploy:ListDeploymentTargets",
    "codedeploy:GetDeploymentTarget",
}
QUEUE_POLLING = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
STREAM_READING = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
DELETING = {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "s3:DeleteObject", "s3:DeleteObjectVersion"}

Grant = tuple[str, str]  # (action, resource as canonical JSON)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _key(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def _identity(resources: dict[str, Any], role_name: str) -> list[Grant]:
    """The role's managed, inline and separately attached (AWS::IAM::Policy) statements."""
    role = resources[role_name]
    grants: list[Grant] = []
    for arn in role["Properties"].get("ManagedPolicyArns", []):
        name = arn["Fn::Sub"].split(":policy/")[1] if isinstance(arn, dict) else arn.split(":policy/")[1]
        grants += [(action, _key("*")) for action in MANAGED_POLICIES[name]]
    documents = [policy["PolicyDocument"] for policy in role["Properties"].get("Policies", [])]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_name} in r["Properties"].get("Roles", [])
    ]
    for document in documents:
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", "a Deny in a function role: compute it here before relying on it"
            grants += [(a, _key(r)) for a in _list(statement["Action"]) for r in _list(statement["Resource"])]
    return grants


def _allows(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(fnmatchcase(action, pattern) for pattern in _list(statement["NotAction"]))
    return any(fnmatchcase(action, pattern) for pattern in _list(statement["Action"]))


def _effective(identity: list[Grant], boundary: dict[str, Any]) -> set[Grant]:
    """The intersection: an identity grant on `*` narrows to the boundary's resources, and a grant on a
    resource the boundary does not cover is dropped."""
    granted: set[Grant] = set()
    for action, resource in identity:
        for statement in boundary["Statement"]:
            if not _allows(statement, action):
                continue
            for bound in map(_key, _list(statement["Resource"])):
                if bound == _key("*"):
                    granted.add((action, resource))
                elif resource == _key("*") or resource == bound:
                    granted.add((action, bound))
    return granted


@cache
def _translated() -> Template:
    return translate(packaged(load_template()))


@cache
def effective(function: str) -> frozenset[Grant]:
    resources = _translated()["Resources"]
    role = resources[f"{function}Role"]
    boundary_name = role["Properties"]["PermissionsBoundary"]["Ref"]
    boundary = resources[boundary_name]["Properties"]["PolicyDocument"]
    return frozenset(_effective(_identity(resources, f"{function}Role"), boundary))


def _resources(function: str, actions: set[str]) -> set[str]:
    return {resource for action, resource in effective(function) if action in actions}


def _event_sources(template: Template, function: str, event_type: str, source: str) -> set[str]:
    events = template["Resources"][function]["Properties"].get("Events", {}).values()
    return {_key(e["Properties"][source]) for e in events if e["Type"] == event_type}


def _own_log_group(template: Template, function: str) -> str:
    log_group = function_properties(template, function)["LoggingConfig"]["LogGroup"]
    return _key({"Fn::GetAtt": [log_group["Ref"], "Arn"]})


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_role_is_bounded_by_a_boundary_of_its_own(translated: Template, function: str) -> None:
    boundaries = {
        name: translated["Resources"][f"{name}Role"]["Properties"].get("PermissionsBoundary") for name in FUNCTIONS
    }
    assert boundaries[function] == {"Ref": f"{function}Boundary"}
    assert translated["Resources"][f"{function}Boundary"]["Type"] == "AWS::IAM::ManagedPolicy"
    assert list(boundaries.values()).count(boundaries[function]) == 1


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_may_act_on_every_resource_beyond_what_aws_requires(function: str) -> None:
    unbounded = {action for action, resource in effective(function) if resource == _key("*")}
    assert unbounded <= RESOURCELESS, f"{function}: {sorted(unbounded - RESOURCELESS)} on every resource"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_writes_logs_to_its_own_log_group_only_and_creates_none(
    template: Template, function: str
) -> None:
    logs = {(a, r) for a, r in effective(function) if a.startswith("logs:")}
    own = _own_log_group(template, function)
    assert logs == {("logs:CreateLogStream", own), ("logs:PutLogEvents", own)}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_polls_exactly_the_queues_of_its_own_sqs_events(template: Template, function: str) -> None:
    own = _event_sources(template, function, "SQS", "Queue")
    for action in sorted(QUEUE_POLLING):
        assert _resources(function, {action}) == own, f"{function}: {action}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_reads_exactly_the_streams_of_its_own_dynamodb_events(template: Template, function: str) -> None:
    own = _event_sources(template, function, "DynamoDB", "Stream")
    for action in sorted(STREAM_READING):
        assert _resources(function, {action}) == own, f"{function}: {action}"


def test_every_event_source_mapping_after_translation_may_read_its_source(translated: Template) -> None:
    """The Events above are what SAM turns into mappings: each mapping's function may poll or read its source."""
    mappings = [
        r["Properties"] for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert mappings
    for mapping in mappings:
        function = next(f for f in FUNCTIONS if mapping["FunctionName"] == {"Ref": f"{f}Aliaslive"})
        needed = STREAM_READING if mapping["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn" else QUEUE_POLLING
        for action in needed:
            assert _key(mapping["EventSourceArn"]) in _resources(function, {action}), f"{function}: {action}"


# Who may delete (or BatchWriteItem, which deletes too), and why: the code's own delete paths.
DELETERS = {
    "ProductsFunction": {"DELETE /products/{productId} removes the product"},
    "OrdersFunction": {"Powertools idempotency deletes a record after a failure"},
    "NotificationFunction": {"Powertools idempotency deletes a record after a failure"},
    "StatusPushFunction": {"forgets sockets API Gateway reports gone"},
    "WebSocketFunction": {"$disconnect forgets the socket"},
    "WriterFunction": {"BatchWriteItem of account versions and log entries"},
    "TransformerFunction": {
        "BatchWriteItem of refused records into LogTable",
        "deletes a gzip file's staged parts when its plan ends the file",
    },
    "TransformerChunkFunction": {
        "BatchWriteItem of refused records into LogTable",
        "deletes a gzip file's staged parts when its last chunk ends the file",
    },
    "ErrorHandlerFunction": {"BatchWriteItem of salvaged records and log entries"},
    "RegistryFunction": {"DynamoDBWritePolicy (BatchWriteItem) on FilesTable, the pipeline's (issue #11)"},
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_functions_whose_code_deletes_may_delete(function: str) -> None:
    deleting = {action for action, _ in effective(function) if action in DELETING}
    assert bool(deleting) == (function in DELETERS), f"{function}: {sorted(deleting)}"


def test_orders_may_move_stock_but_not_create_replace_or_delete_products() -> None:
    products = _key({"Fn::GetAtt": ["ProductsTable", "Arn"]})
    on_products = {action for action, resource in effective("OrdersFunction") if resource == products}
    assert on_products == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"}


def test_orders_may_query_each_index_of_orders_table_by_name_and_do_nothing_else_on_indexes(
    template: Template,
) -> None:
    """GET /orders pages through OrdersTable's indexes: Query on each one it declares, no other action, no wildcard
    that would reach an index added later for someone else."""
    declared = template["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"]
    index = "${OrdersTable.Arn}/index/"
    on_indexes = {(a, r) for a, r in effective("OrdersFunction") if index in r}
    assert on_indexes == {("dynamodb:Query", _key({"Fn::Sub": index + i["IndexName"]})) for i in declared}
    assert {i["IndexName"] for i in declared} >= {"byCustomer", "newestFirst", "byStatus"}


@pytest.mark.parametrize(
    ("function", "staged"),
    [("TransformerFunction", "s3:PutObject"), ("TransformerChunkFunction", "s3:GetObject")],
)
def test_the_transformer_reads_only_the_ingest_prefix_of_the_data_bucket_by_version(function: str, staged: str) -> None:
    s3 = {(a, r) for a, r in effective(function) if a.startswith("s3:")}
    prefix = _key({"Fn::Sub": "${DataBucket.Arn}/${IngestPrefix}*"})
    # GetObject with VersionId needs s3:GetObjectVersion: every event names the version it announces. A gzip
    # file's decompressed parts: written under staging/ by the Transformer, read there by the chunks, deleted
    # there by whichever ends the file (the current version only: the lifecycle expires what remains), and no
    # listing of the bucket (a gone part is AccessDenied, handled as gone).
    staging = _key({"Fn::Sub": "${DataBucket.Arn}/staging/*"})
    assert s3 == {
        ("s3:GetObject", prefix),
        ("s3:GetObjectVersion", prefix),
        (staged, staging),
        ("s3:DeleteObject", staging),
    }


def test_staged_parts_left_behind_expire_with_their_old_versions_and_delete_markers(translated: Template) -> None:
    """The backstop for parts no chunk deleted (a file that never ended, a delete that failed): the current
    version after ChunkDLQ's 14 days, a deleted part's noncurrent version after a day, its delete marker then."""
    rules = translated["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    staging = [r for r in rules if r.get("Prefix") == "staging/" and r["Status"] == "Enabled"]
    assert any(r.get("ExpirationInDays") == 15 and r.get("NoncurrentVersionExpirationInDays") == 1 for r in staging)
    assert any(r.get("ExpiredObjectDeleteMarker") is True for r in staging)


def test_the_registry_may_read_every_version_of_the_data_buckets_objects() -> None:
    objects = {r for a, r in effective("RegistryFunction") if a == "s3:GetObjectVersion"}
    assert any("${bucketName}/*" in r and "DataBucket" in r for r in objects), objects


@pytest.mark.parametrize("function", ["OrderWorkerFunction", "InvoiceFunction"])
def test_the_worker_and_invoicing_write_only_through_puts_and_updates(function: str) -> None:
    writes = {a for a, _ in effective(function) if a.startswith("dynamodb:") and not a.endswith(("Item", "Query"))}
    assert not writes
    assert {a for a, _ in effective(function) if a in {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}} == set()


def test_the_sign_up_trigger_may_only_add_users_to_groups_of_this_pool() -> None:
    cognito = {(a, r) for a, r in effective("PostConfirmationFunction") if a.startswith("cognito-idp:")}
    assert cognito == {("cognito-idp:AdminAddUserToGroup", _key({"Fn::GetAtt": ["UserPool", "Arn"]}))}


def test_the_sign_up_triggers_boundary_names_only_its_log_group_not_the_pool_that_names_it(
    translated: Template,
) -> None:
    """UserPool -> PostConfirmationFunction's alias -> its role -> the boundary: naming the pool would be a cycle."""
    boundary = translated["Resources"]["PostConfirmationFunctionBoundary"]["Properties"]["PolicyDocument"]
    named = {_key(r) for statement in boundary["Statement"] for r in _list(statement["Resource"])}
    assert named == {_key("*"), _key({"Fn::GetAtt": ["PostConfirmationFunctionLogGroup", "Arn"]})}


def test_the_token_trigger_may_do_nothing_but_log_and_trace() -> None:
    """Every sign-in waits for it: it calls no AWS API, so no AWS fault or permission can fail a sign-in."""
    actions = {action for action, _ in effective("PreTokenGenerationFunction")}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"} | set(MANAGED_POLICIES["AWSXrayWriteOnlyAccess"])


@pytest.mark.parametrize("function", ["WriterFunction", "ErrorHandlerFunction"])
def test_the_writer_and_error_handler_read_log_entries_only_by_key(function: str) -> None:
    """They read the entries of records they wrote (to withdraw a 'not written' one), never list or query the log."""
    log_table = _key({"Fn::GetAtt": ["LogTable", "Arn"]})
    reads = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect"}
    assert {a for a, r in effective(function) if a in reads and "LogTable" in r} == {"dynamodb:BatchGetItem"}
    assert ("dynamodb:BatchGetItem", log_table) in effective(function)
