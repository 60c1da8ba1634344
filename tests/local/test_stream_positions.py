"""A stream mapping keeps reading after a cancelled transaction on its table. moto rolls a cancelled
TransactWriteItems back by replacing the table with a copy, so a shard iterator taken before it reads the
discarded copy for ever: the mapping keeps positions as sequence numbers and takes a fresh iterator each poll."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.local.stack import Stack
from tools.local.wiring import Wiring

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "OutboxTable": {"Type": "AWS::DynamoDB::Table"},
        "RelayFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "Outbox": {
                        "Type": "DynamoDB",
                        "Properties": {"Stream": {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}, "BatchSize": 10},
                    }
                }
            },
        },
    }
}


@pytest.fixture
def outbox(aws_session: boto3.session.Session) -> Iterator[tuple[Stack, Any]]:
    with mock_aws():
        stack = Stack(aws_session, TEMPLATE, aws_session.region_name)
        dynamodb = stack.client("dynamodb")
        table = dynamodb.create_table(
            TableName="outbox",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        stack.streams["OutboxTable"] = table["LatestStreamArn"]
        yield stack, dynamodb


def test_a_stream_mapping_reads_on_after_a_cancelled_transaction_on_its_table(outbox: tuple[Stack, Any]) -> None:
    stack, dynamodb = outbox
    delivered: list[str] = []

    def relay(function: str, event: dict[str, Any]) -> None:
        delivered.extend(record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"])

    wiring = Wiring(stack, invoker=relay)
    (mapping,) = wiring.stream_mappings()
    dynamodb.put_item(TableName="outbox", Item={"pk": {"S": "first"}})
    wiring.poll_stream(mapping)
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "outbox",
                        "Item": {"pk": {"S": "refused"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            ]
        )
    dynamodb.put_item(TableName="outbox", Item={"pk": {"S": "after"}})

    wiring.poll_stream(mapping)

    assert delivered == ["first", "after"]
