"""The pipeline's functions in-process on moto, wired by the template (see tests/support/wiring.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dropshop.platform import dynamodb
from tests.support import container
from tools.local.stack import Stack, provision
from tools.local.wiring import Wiring


@pytest.fixture
def stack(aws_session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws():
        provisioned = provision(aws_session)
        for function in provisioned.of_type("AWS::Serverless::Function"):
            for key, value in provisioned.environment(function).items():
                if key != "POWERTOOLS_SERVICE_NAME":
                    monkeypatch.setenv(key, value)
        # Retries without the waiting: the backoff schedule is not what these tests are about.
        monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.0)
        container.cold_start()
        yield provisioned
    container.cold_start()


@pytest.fixture
def wiring(stack: Stack) -> Wiring:
    return Wiring(stack)


def scan(stack: Stack, table: str) -> list[dict[str, Any]]:
    client = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=stack.physical[table]):
        items += page["Items"]
    return items
