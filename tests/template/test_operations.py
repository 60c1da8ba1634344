"""Operations as SAM translates the template: alarms that reach people, stacks that share an account, data kept."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest
from samcli.yamlhelper import yaml_parse

from tests.template.conftest import DEV, PROD, ROOT, Template, for_parameters, of_type, packaged, translate


@pytest.fixture(scope="module", params=[DEV, PROD], ids=["dev", "prod"])
def stage(request: pytest.FixtureRequest, translated: Template) -> Template:
    return for_parameters(translated, **request.param)


@pytest.fixture(scope="module")
def prod(translated: Template) -> Template:
    return for_parameters(translated, **PROD)


@pytest.fixture(scope="module")
def dev(translated: Template) -> Template:
    return for_parameters(translated, **DEV)


def load_account_template() -> Template:
    account: Template = yaml_parse((ROOT / "account" / "template.yaml").read_text())
    return account


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- alarms that notify


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_recovers(stage: Template) -> None:
    alarms = of_type(stage, "AWS::CloudWatch::Alarm")
    assert len(alarms) > 40
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        for actions in ("AlarmActions", "OKActions"):
            assert [_ref(a) for a in props.get(actions, [])] == ["OpsAlarmTopic"], f"{name}: {actions}"


def test_write_throttles_of_the_order_indexes_with_few_partitions_are_alarmed(stage: Template) -> None:
    """newestFirst and byStatus concentrate every order on a handful of index partitions; a throttled index
    throttles OrdersTable's writes. WriteThrottleEvents counts an index's throttles only with both dimensions
    (CloudWatch throttling metrics, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingThrottling-cloudwatch.html)."""
    alarms = of_type(stage, "AWS::CloudWatch::Alarm").values()
    watched = set()
    for alarm in alarms:
        props = alarm["Properties"]
        dimensions = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        if props.get("MetricName") != "WriteThrottleEvents" or _ref(dimensions.get("TableName")) != "OrdersTable":
            continue
        assert props["Namespace"] == "AWS/DynamoDB"
        assert (props["Statistic"], props["Threshold"], props["ComparisonOperator"]) == (
            "Sum",
            1,
            "GreaterThanOrEqualToThreshold",
        )
        watched.add(dimensions["GlobalSecondaryIndexName"])
    assert watched == {"newestFirst", "byStatus"}


def test_the_alarm_topic_is_encrypted_with_a_rotated_key_that_cloudwatch_may_use(stage: Template) -> None:
    topic = stage["Resources"]["OpsAlarmTopic"]["Properties"]
    key_id = _ref(topic["KmsMasterKeyId"])
    assert key_id, "the alarm topic must use the stack's own key: alias/aws/sns cannot grant CloudWatch"
    key = stage["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1
    assert set(_as_list(cloudwatch[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    services = {json.dumps(s["Principal"]) for s in statements if "Service" in s.get("Principal", {})}
    assert services == {json.dumps({"Service": "cloudwatch.amazonaws.com"})}, "no other service may use the key"


def test_cloudwatch_may_publish_to_the_alarm_topic_over_tls_only(stage: Template) -> None:
    policies = [
        p["Properties"]
        for p in of_type(stage, "AWS::SNS::TopicPolicy").values()
        if {"Ref": "OpsAlarmTopic"} in p["Properties"]["Topics"]
    ]
    assert len(policies) == 1
    statements = policies[0]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"]) for s in allows] == [({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")]
    assert allows[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_an_alarm_email_subscribes_only_when_given(template: Template) -> None:
    translated = translate(packaged(template))
    without = for_parameters(translated, **PROD)
    assert not of_type(without, "AWS::SNS::Subscription").keys() & {"OpsAlarmEmailSubscription"}
    with_email = for_parameters(translated, **PROD, AlarmEmail="oncall@example.com")
    subscription = with_email["Resources"]["OpsAlarmEmailSubscription"]["Properties"]
    assert subscription["Protocol"] == "email"
    assert _ref(subscription["TopicArn"]) == "OpsAlarmTopic"


# ---------------------------------------------------------------- many stacks per account


def test_no_stack_sets_account_wide_settings_the_account_template_does(template: Template) -> None:
    assert not of_type(template, "AWS::ApiGateway::Account"), "a stack's deletion would take the setting away"
    account = load_account_template()
    (setting,) = of_type(account, "AWS::ApiGateway::Account").values()
    role = account["Resources"][setting["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    for resource in (setting, role):
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def test_the_stack_sends_from_the_address_it_is_given_and_no_other(stage: Template) -> None:
    (identity,) = of_type(stage, "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == {"Ref": "SenderEmail"}
    notification = stage["Resources"]["NotificationFunction"]["Properties"]
    assert notification["Environment"]["Variables"]["SENDER_EMAIL"] == {"Ref": "SenderIdentity"}


def test_a_deploy_without_a_sender_fails_at_once_saying_what_to_set(translated: Template) -> None:
    """No address of the stack's own (a reserved `.example` one could never be verified): CloudFormation's
    Rules refuse the parameters before anything is created, with a message naming the parameter."""
    assert translated["Parameters"]["SenderEmail"]["Default"] == ""
    (assertion,) = translated["Rules"]["SenderEmailIsSet"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SenderEmail"}, ""]}]}
    assert "SenderEmail=" in assertion["AssertDescription"]
    assert "samconfig.toml" in assertion["AssertDescription"]
    assert "dropshop.example" not in json.dumps(translated["Resources"])


def test_notifications_may_send_from_the_stacks_identity_only(translated: Template) -> None:
    role = translated["Resources"]["NotificationFunctionRole"]["Properties"]
    resources = [
        json.dumps(s["Resource"])
        for p in role["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if "ses:SendEmail" in _as_list(s["Action"])
    ]
    identity = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"
    assert resources == [json.dumps({"Fn::Sub": identity})]


def test_queues_accept_the_events_topic_before_it_subscribes_them(template: Template) -> None:
    for name, subscription in of_type(template, "AWS::SNS::Subscription").items():
        if subscription["Properties"]["Protocol"] != "sqs":
            continue
        assert {"OrderWorkerQueuePolicy", "TlsOnlyQueuePolicy"} <= set(_as_list(subscription.get("DependsOn"))), (
            f"{name}: SNS would deliver to the queue (or dead-letter) before a policy lets it"
        )


# ---------------------------------------------------------------- data kept

BUSINESS_TABLES = ["AccountTable", "FilesTable", "InvoicesTable", "LogTable", "OrdersTable", "ProductsTable"]
BUSINESS_BUCKETS = ["AccessLogsBucket", "DataBucket", "InvoicesBucket"]


@pytest.mark.parametrize("name", BUSINESS_TABLES + BUSINESS_BUCKETS)
def test_business_data_outlives_the_stack_and_a_replacement(stage: Template, name: str) -> None:
    resource = stage["Resources"][name]
    assert resource["DeletionPolicy"] == "Retain", f"{name} would be deleted with the stack"
    assert resource["UpdateReplacePolicy"] == "Retain", f"{name} would be deleted when replaced"


@pytest.mark.parametrize("name", BUSINESS_TABLES)
def test_business_tables_recover_to_any_point_and_resist_deletion_in_prod(prod: Template, name: str) -> None:
    props = prod["Resources"][name]["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True


def test_dev_tables_may_be_deleted_by_hand(dev: Template) -> None:
    assert [n for n in BUSINESS_TABLES if dev["Resources"][n]["Properties"]["DeletionProtectionEnabled"]] == [
        "InvoicesTable"
    ], "only invoices (bookkeeping) are protected in dev too"


def test_data_buckets_keep_overwritten_objects_and_log_access(stage: Template) -> None:
    for name in ("DataBucket", "InvoicesBucket"):
        props = stage["Resources"][name]["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert _ref(props["LoggingConfiguration"]["DestinationBucketName"]) == "AccessLogsBucket", name
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in of_type(stage, "AWS::S3::BucketPolicy").values()
        if _ref(p["Properties"]["Bucket"]) == "AccessLogsBucket"
    ]
    (delivery,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


# ---------------------------------------------------------------- gaps closed


def test_every_topic_and_queue_refuses_requests_without_tls(stage: Template) -> None:
    def tls_denied(policies: dict[str, dict[str, Any]], key: str) -> set[str]:
        denied: set[str] = set()
        for policy in policies.values():
            props = policy["Properties"]
            for statement in props["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Deny" and statement.get("Condition") == {
                    "Bool": {"aws:SecureTransport": "false"}
                }:
                    assert statement["Principal"] == "*"
                    assert statement["Action"] in {"sqs:*", "sns:*"}
                    denied |= {r.get("Ref") or r["Fn::GetAtt"][0] for r in _as_list(statement["Resource"])} & {
                        _ref(t) for t in props[key]
                    }
        return denied

    queues = set(of_type(stage, "AWS::SQS::Queue"))
    assert tls_denied(of_type(stage, "AWS::SQS::QueuePolicy"), "Queues") == queues
    topics = set(of_type(stage, "AWS::SNS::Topic"))
    assert tls_denied(of_type(stage, "AWS::SNS::TopicPolicy"), "Topics") == topics


def test_events_the_topic_cannot_deliver_are_dead_lettered_and_alarmed(stage: Template) -> None:
    resources = stage["Resources"]
    for name, subscription in of_type(stage, "AWS::SNS::Subscription").items():
        props = subscription["Properties"]
        if props["Protocol"] == "sqs":
            assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["EventsDeliveryDLQ", "Arn"]}}, name
    statements = [
        s
        for p in of_type(stage, "AWS::SQS::QueuePolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s["Resource"] == {"Fn::GetAtt": ["EventsDeliveryDLQ", "Arn"]}
    ]
    assert [(s["Principal"], s["Action"], s["Condition"]) for s in statements] == [
        ({"Service": "sns.amazonaws.com"}, "sqs:SendMessage", {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}})
    ]
    failed = resources["EventsTopicFailedDeliveriesAlarm"]["Properties"]
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert failed["Dimensions"] == [{"Name": "TopicName", "Value": {"Fn::GetAtt": ["EventsTopic", "TopicName"]}}]


RESERVED = {"RegistryFunction": 10, "TelemetryFunction": 20, "TransformerFunction": 5}


def _reservations(template: Template) -> dict[str, Any]:
    return {
        n: f["Properties"]["ReservedConcurrentExecutions"]
        for n, f in of_type(template, "AWS::Lambda::Function").items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }


def test_a_new_account_can_create_the_stack_no_function_reserves_concurrency_unless_asked(stage: Template) -> None:
    """Lambda keeps 100 units unreserved and new accounts often have a quota of 10: any reservation fails the
    stack there ("decreases account's UnreservedConcurrentExecution below its minimum value")."""
    assert _reservations(stage) == {}


def test_bursty_functions_cannot_take_the_concurrency_orders_need_and_throttles_are_alarmed(
    translated: Template,
) -> None:
    assert _reservations(for_parameters(translated, **PROD, ReserveConcurrency="on")) == RESERVED
    for name in RESERVED:
        throttles = [
            a["Properties"]
            for a in of_type(translated, "AWS::CloudWatch::Alarm").values()
            if a["Properties"]["MetricName"] == "Throttles"
            and {"Name": "FunctionName", "Value": {"Ref": name}} in a["Properties"]["Dimensions"]
        ]
        assert throttles, f"{name}: a reserved function that is throttled must say so"


def test_prod_puts_a_web_acl_with_common_rules_and_a_rate_limit_in_front_of_the_rest_stage(prod: Template) -> None:
    acl = prod["Resources"]["RestApiWebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    statements = {rule["Name"]: rule["Statement"] for rule in acl["Rules"]}
    common = statements["AWSManagedRulesCommonRuleSet"]["ManagedRuleGroupStatement"]
    assert (common["VendorName"], common["Name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    rate = statements["RatePerAddress"]["RateBasedStatement"]
    assert (rate["AggregateKeyType"], rate["Limit"]) == ("IP", 1000)
    association = prod["Resources"]["RestApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["RestApiWebAcl", "Arn"]}
    # The stage SAM generates for the API: the association is made once the stage exists.
    assert association["ResourceArn"]["Fn::Sub"].endswith("/restapis/${RestApi}/stages/${RestApiStage}")
    assert prod["Resources"]["RestApiStage"]["Type"] == "AWS::ApiGateway::Stage"


@pytest.mark.parametrize(
    ("overrides", "expected"), [(DEV, False), ({**DEV, "WebAcl": "on"}, True), ({**PROD, "WebAcl": "off"}, False)]
)
def test_the_web_acl_parameter_turns_it_on_or_off_in_any_stage(
    translated: Template, overrides: dict[str, str], expected: bool
) -> None:
    resources = for_parameters(translated, **overrides)["Resources"]
    assert ("RestApiWebAcl" in resources, "RestApiWebAclAssociation" in resources) == (expected, expected)


# ---------------------------------------------------------------- lint suppressions


def test_every_checkov_suppression_says_why(template: Template) -> None:
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    unexplained = [(name, skip.get("id")) for name, skip in skips if len(str(skip.get("comment", ""))) < 20]
    assert not unexplained, f"suppressed without a reason: {unexplained}"


# ---------------------------------------------------------------- dashboards


def _dashboard_metrics(template: Template) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for dashboard in of_type(template, "AWS::CloudWatch::Dashboard").values():
        body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
        rows += [row for widget in body["widgets"] for row in widget["properties"]["metrics"]]
    return rows


def test_every_function_is_on_a_dashboard(template: Template) -> None:
    shown = {row[3] for row in _dashboard_metrics(template) if row[0] == "AWS/Lambda" and row[2] == "FunctionName"}
    functions = {f"${{{name}}}" for name in of_type(template, "AWS::Serverless::Function")}
    assert functions - shown == set()


def test_the_apis_requests_errors_and_latency_and_the_stream_age_are_on_a_dashboard(template: Template) -> None:
    rows = _dashboard_metrics(template)
    rest = {row[1] for row in rows if row[0] == "AWS/ApiGateway" and row[2:4] == ["ApiName", "${AWS::StackName}-rest"]}
    assert {"Count", "4XXError", "5XXError", "Latency"} <= rest
    http = {row[1] for row in rows if row[0] == "AWS/ApiGateway" and row[2:4] == ["ApiId", "${WriterHttpApi}"]}
    assert {"4xx", "5xx"} <= http
    assert ["AWS/Lambda", "IteratorAge", "FunctionName", "${EventRelayFunction}"] in rows


# ---------------------------------------------------------------- custom metrics seen

LAYER = ROOT / "layers" / "shared"
CODE = [*sorted((LAYER / "dropshop").rglob("*.py")), *sorted((ROOT / "handlers").glob("*/app.py"))]


def _order_status_metrics() -> set[str]:
    from dropshop.orders.model import NEXT_STATUSES

    return {f"Orders{status.value.title()}" for targets in NEXT_STATUSES.values() for status in targets}


def _web_vital_metrics() -> set[str]:
    from dropshop.telemetry.model import WebVitalEvent

    return {f"WebVital{name}" for name in get_args(WebVitalEvent.model_fields["name"].annotation)}


def _metric_keywords(module: Path) -> set[str]:
    """The literal `metric="..."` arguments in `module`: the names a helper taking the name is given."""
    return {
        keyword.value.value
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "metric" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)
    }


# Names the code builds rather than writes: (module, the name's expression) → every name it can take.
BUILT_NAMES: dict[tuple[str, str], Callable[[], set[str]]] = {
    ("dropshop/orders/service.py", "f'Orders{status.value.title()}'"): _order_status_metrics,
    ("dropshop/telemetry/service.py", "f'WebVital{event.name}'"): _web_vital_metrics,
    ("dropshop/invoicing/service.py", "metric"): lambda: _metric_keywords(LAYER / "dropshop/invoicing/service.py"),
}

# Which functions (their POWERTOOLS_SERVICE_NAME, the metrics' `service` dimension) count each metric.
COUNTED_BY: dict[str, set[str]] = {
    "CreditNotesIssued": {"invoicing"},
    "CustomersRepaired": {"group-repair"},
    "CustomersSignedUp": {"post-confirmation"},
    "EmailsRejected": {"notifications"},
    "EmailsSent": {"notifications"},
    "EventsRelayed": {"event-relay"},
    "FailedRecords": {
        "error-handler",
        "event-relay",
        "invoicing",
        "notifications",
        "order-worker",
        "status-push",
        "transformer-chunk",
        "writer",
    },
    "FilesFailed": {"transformer", "transformer-chunk"},
    "FilesRegistered": {"registry"},
    "FrontendErrors": {"telemetry"},
    "InvoicesIssued": {"invoicing"},
    "InvoicesSkippedForCancelledOrders": {"invoicing"},
    "MalformedHookEvents": {"deploy-hook"},
    "NotificationsWithoutRecipient": {"notifications"},
    "OrdersCancelled": {"orders"},
    "OrdersConfirmed": {"orders", "order-worker"},
    "OrdersDelivered": {"orders"},
    "OrdersHeldForReview": {"order-worker"},
    "OrdersPlaced": {"orders"},
    "OrdersRefusedForStock": {"orders"},
    "OrdersShipped": {"orders"},
    "RecordsAccepted": {"transformer", "transformer-chunk"},
    "RecordsLogged": {"error-handler"},
    "RecordsRejected": {"transformer", "transformer-chunk", "writer"},
    "RecordsSalvaged": {"error-handler"},
    "RecordsWritten": {"writer"},
    "SessionsRefused": {"session"},
    "SessionsServed": {"session"},
    "SocketsConnected": {"websocket"},
    "StalePushesDropped": {"status-push"},
    "StaleSocketsRemoved": {"status-push"},
    "StatusPushes": {"status-push"},
    "StatusPushesFailed": {"status-push"},
    "TelemetryBatchesRefused": {"telemetry"},
    "TelemetryEvents": {"telemetry"},
    "TelemetryEventsRejected": {"telemetry"},
    # Deployed REST functions get their callers from the Cognito authorizer: only these verify tokens.
    "TokensRefused": {"session", "telemetry", "websocket"},
    **{vital: {"telemetry"} for vital in sorted(_web_vital_metrics())},
}

# Counts that mean someone must act: each has an alarm, not only a line on a dashboard.
ALARMED = {"EmailsRejected", "FailedRecords", "MalformedHookEvents", "StatusPushesFailed"}


def _counted_metrics() -> dict[str, set[Path]]:
    """Every metric name the layer and handlers count (add_metric, single_metric) → the modules counting it."""
    counted: dict[str, set[Path]] = {}
    for module in CODE:
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            name = next((k.value for k in node.keywords if k.arg == "name"), None)
            if called not in {"add_metric", "single_metric"} or name is None:
                continue
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                names = {name.value}
            else:
                built = (module.relative_to(LAYER).as_posix(), ast.unparse(name))
                assert built in BUILT_NAMES, f"{built}: say in BUILT_NAMES which names this metric can take"
                names = BUILT_NAMES[built]()
            for metric in names:
                counted.setdefault(metric, set()).add(module)
    return counted


def _imports(module: Path) -> set[Path]:
    """The layer's modules `module` imports (at its top or inside a function)."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            dotted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            dotted = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in dotted:
            path = LAYER / name.replace(".", "/")
            found |= {p for p in (path.with_suffix(".py"), path / "__init__.py") if p.is_file()}
    return found


def _reached_from(handler: Path) -> set[Path]:
    reached, todo = {handler}, [handler]
    while todo:
        for module in _imports(todo.pop()) - reached:
            reached.add(module)
            todo.append(module)
    return reached


def _handlers_by_service(template: Template) -> dict[str, Path]:
    handlers: dict[str, Path] = {}
    for function in of_type(template, "AWS::Serverless::Function").values():
        props = function["Properties"]
        service = props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        handlers[service] = ROOT / props["CodeUri"] / "app.py"
    return handlers


def _dashboard_body(dashboard: dict[str, Any]) -> dict[str, Any]:
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        assert set(body) == {"Fn::Sub"}, "write a dashboard body as one JSON text, with !Sub for the stack's names"
        body = body["Fn::Sub"] if isinstance(body["Fn::Sub"], str) else body["Fn::Sub"][0]
    parsed: dict[str, Any] = json.loads(body)  # ${...} placeholders sit inside JSON strings
    return parsed


def _custom_metrics_shown(template: Template) -> set[tuple[str, str]]:
    """(metric, service) of each DropShop metric a dashboard draws: rows, and SEARCH expressions by name."""
    shown: set[tuple[str, str]] = set()
    for dashboard in of_type(template, "AWS::CloudWatch::Dashboard").values():
        for widget in _dashboard_body(dashboard)["widgets"]:
            for row in widget.get("properties", {}).get("metrics", []):
                strings = [item for item in row if isinstance(item, str)]
                if strings[:1] != ["DropShop"]:
                    continue
                dimensions = dict(zip(strings[2::2], strings[3::2], strict=False))
                shown.add((strings[1], dimensions.get("service", "")))
    return shown


def _custom_metrics_alarmed(template: Template) -> set[tuple[str, str]]:
    alarmed: set[tuple[str, str]] = set()
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        metrics = [props] + [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        for metric in metrics:
            if metric.get("Namespace") != "DropShop":
                continue
            dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            alarmed.add((metric["MetricName"], dimensions.get("service", "")))
            assert props["TreatMissingData"] == "notBreaching", f"{metric['MetricName']}: no count is no trouble"
    return alarmed


def test_every_metric_the_code_counts_is_known_with_the_functions_that_count_it() -> None:
    counted = _counted_metrics()
    assert len(counted) > 30
    assert set(counted) - set(COUNTED_BY) == set(), "a new metric: say in COUNTED_BY which functions count it"
    assert set(COUNTED_BY) - set(counted) == set(), "the code no longer counts these: remove them"


def test_the_functions_said_to_count_a_metric_run_the_code_that_counts_it(template: Template) -> None:
    counted, handlers = _counted_metrics(), _handlers_by_service(template)
    for metric, services in COUNTED_BY.items():
        for service in services:
            assert service in handlers, f"{metric}: no function has service {service}"
            assert _reached_from(handlers[service]) & counted[metric], f"{metric}: {service} never imports its code"


def test_every_metric_the_code_counts_is_on_a_dashboard_or_behind_an_alarm_of_its_function(
    translated: Template,
) -> None:
    seen = _custom_metrics_shown(translated) | _custom_metrics_alarmed(translated)
    counted = sorted((metric, service) for metric, services in COUNTED_BY.items() for service in services)
    unseen = [pair for pair in counted if pair not in seen]
    assert not unseen, f"on no dashboard and behind no alarm (metric, service): {unseen}"


@pytest.mark.parametrize("metric", sorted(ALARMED))
def test_counts_someone_must_act_on_are_alarmed_for_each_function_counting_them(
    translated: Template, metric: str
) -> None:
    alarmed = _custom_metrics_alarmed(translated)
    assert {(metric, service) for service in COUNTED_BY[metric]} <= alarmed
