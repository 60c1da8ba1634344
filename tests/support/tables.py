"""DynamoDB tables on moto as template.yaml declares them (keys and indexes), so a unit test's table cannot drift
from the deployed one."""

from __future__ import annotations

from functools import cache
from typing import Any

from tools.local.stack import TEMPLATE, load_template


@cache
def _resources() -> dict[str, Any]:
    return dict(load_template(TEMPLATE.read_text())["Resources"])


def create_declared_table(client: Any, logical_id: str, name: str) -> None:
    """Create `name` with the key schema, attributes and global secondary indexes of the template's `logical_id`."""
    declared = _resources()[logical_id]["Properties"]
    indexes = (
        {"GlobalSecondaryIndexes": declared["GlobalSecondaryIndexes"]} if "GlobalSecondaryIndexes" in declared else {}
    )
    client.create_table(
        TableName=name,
        AttributeDefinitions=declared["AttributeDefinitions"],
        KeySchema=declared["KeySchema"],
        BillingMode="PAY_PER_REQUEST",
        **indexes,
    )
