"""Pages of a filtered listing on DynamoDB (moto): full, in order, and read in few requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dropshop.platform.pagination import read_page

ITEMS = 600


@pytest.fixture
def table(aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        dynamodb = aws_session.client("dynamodb")
        dynamodb.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "customer", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(ITEMS):
            status = "SHIPPED" if n % 200 == 0 else "DELIVERED"  # three rare matches among many
            item = {"customer": {"S": "jane"}, "at": {"S": f"{n:06d}"}, "status": {"S": status}}
            dynamodb.put_item(TableName="orders", Item=item)
        yield dynamodb


def test_a_rare_status_among_many_orders_is_paged_in_full_pages_with_few_requests(table: Any) -> None:
    requests: list[dict[str, Any]] = []

    def query(**request: Any) -> dict[str, Any]:
        requests.append(request)
        answer: dict[str, Any] = table.query(**request)
        return answer

    request = {
        "TableName": "orders",
        "KeyConditionExpression": "customer = :customer",
        "FilterExpression": "#status = :status",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":customer": {"S": "jane"}, ":status": {"S": "SHIPPED"}},
        "ScanIndexForward": False,
        "Limit": 1,
    }
    pages, cursor = [], None
    while True:
        items, cursor = read_page(
            query, request, cursor=cursor, key_attributes={"customer", "at"}, within={"status": {"S": "SHIPPED"}}
        )
        pages.append([item["at"]["S"] for item in items])
        if cursor is None:
            break

    assert pages == [["000400"], ["000200"], ["000000"]]
    # 600 items read in pages of at least 100 per request: a request per two items read would be ~300.
    assert len(requests) <= 12
