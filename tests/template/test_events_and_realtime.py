"""How the template wires events to their consumers and the WebSocket API to its function."""

from __future__ import annotations

import json
from pathlib import Path

from tests.template.conftest import ROOT, Template, of_type


def _arn_of(value: object) -> str:
    assert isinstance(value, dict), value
    target = value["Fn::GetAtt"]
    return str(target.split(".")[0] if isinstance(target, str) else target[0])


def test_every_subscribed_queue_may_receive_from_the_events_topic_and_only_from_it(template: Template) -> None:
    policies = of_type(template, "AWS::SQS::QueuePolicy").values()
    for name, subscription in of_type(template, "AWS::SNS::Subscription").items():
        if subscription["Properties"]["Protocol"] != "sqs":
            continue  # on-call's e-mail
        queue = _arn_of(subscription["Properties"]["Endpoint"])
        allowed = [
            statement
            for policy in policies
            if {"Ref": queue} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Principal"] == {"Service": "sns.amazonaws.com"}
            and {"Fn::GetAtt": [queue, "Arn"]} in statement["Resource"]
        ]
        assert allowed, f"{name}: no queue policy lets the topic deliver to {queue}"
        for statement in allowed:
            assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == subscription["Properties"]["TopicArn"]


def test_invoicing_hears_of_confirmed_and_cancelled_orders_only(template: Template) -> None:
    subscription = template["Resources"]["InvoiceSubscription"]["Properties"]
    assert subscription["FilterPolicyScope"] == "MessageBody"
    assert subscription["FilterPolicy"] == {
        "type": ["OrderStatusChanged"],
        "data": {"status": ["CONFIRMED", "CANCELLED"]},
    }


def test_issued_credit_notes_reach_the_order_worker_and_the_customers_inbox(template: Template) -> None:
    for subscription in ("OrderWorkerSubscription", "NotificationSubscription"):
        policy = template["Resources"][subscription]["Properties"]["FilterPolicy"]
        assert "CreditNoteIssued" in policy["eventType"], subscription


def test_the_invoices_bucket_keeps_every_version_under_kms(template: Template) -> None:
    bucket = template["Resources"]["InvoicesBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_the_pdf_library_ships_with_the_invoice_function_not_the_shared_layer() -> None:
    def requirements(path: Path) -> set[str]:
        lines = path.read_text().splitlines()
        return {line.split("==")[0].lower() for line in lines if line and not line.startswith("#")}

    assert "fpdf2" in requirements(ROOT / "handlers" / "invoice" / "requirements.txt")
    assert "fpdf2" not in requirements(ROOT / "layers" / "shared" / "requirements.txt")


def test_the_websocket_api_invokes_the_live_alias_and_may_only_do_that(
    template: Template, translated: Template
) -> None:
    integration = template["Resources"]["WebSocketIntegration"]["Properties"]
    # The alias, so canary deployments shift WebSocket traffic like every other.
    assert "${WebSocketFunctionAliaslive}" in integration["IntegrationUri"]["Fn::Sub"]
    assert "WebSocketFunctionAliaslive" in translated["Resources"]
    permission = template["Resources"]["WebSocketInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "WebSocketFunction.Alias"}
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${WebSocketApi}/*")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert sorted(routes) == ["$connect", "$disconnect", "subscribe"]
    assert routes["subscribe"]["RouteResponseSelectionExpression"] == "$default"


def test_pushes_may_only_post_to_connections_of_this_api(template: Template) -> None:
    policies = template["Resources"]["StatusPushFunction"]["Properties"]["Policies"]
    statements = [s for p in policies if "Statement" in p for s in p["Statement"]]
    (statement,) = [s for s in statements if s["Action"] == "execute-api:ManageConnections"]
    assert statement["Resource"]["Fn::Sub"].endswith(":${WebSocketApi}/${Stage}/POST/@connections/*")


def _statements(translated: Template, function: str) -> list[dict[str, object]]:
    role = translated["Resources"][f"{function}Role"]["Properties"]
    return [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def _actions_on(statements: list[dict[str, object]], resource: str) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        if resource in json.dumps(statement.get("Resource")):
            actions = statement["Action"]
            found |= {actions} if isinstance(actions, str) else set(actions)  # type: ignore[arg-type]
    return found


def test_the_socket_functions_may_do_what_their_repository_does_and_no_more(translated: Template) -> None:
    # moto checks no IAM: without this, a missing DeleteItem would only show on AWS (every $disconnect failing).
    websocket = _actions_on(_statements(translated, "WebSocketFunction"), "ConnectionsTable")
    assert websocket == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"}
    push = _actions_on(_statements(translated, "StatusPushFunction"), "ConnectionsTable")
    assert push == {"dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:UpdateItem"}  # UpdateItem: last pushed stage


def test_invoice_pdfs_are_written_by_invoicing_and_read_by_orders_only_under_their_prefixes(
    translated: Template,
) -> None:
    assert _actions_on(_statements(translated, "InvoiceFunction"), "InvoicesBucket") == {"s3:PutObject"}
    assert _actions_on(_statements(translated, "OrdersFunction"), "InvoicesBucket") == {"s3:GetObject"}
    for function in ("InvoiceFunction", "OrdersFunction"):
        for statement in _statements(translated, function):
            if "InvoicesBucket" in json.dumps(statement.get("Resource")):
                assert statement["Resource"] == [
                    {"Fn::Sub": "${InvoicesBucket.Arn}/invoices/*"},
                    {"Fn::Sub": "${InvoicesBucket.Arn}/credit-notes/*"},
                ], function
