"""Every record the pipeline refused, from the stack's LogTable: one JSON line each, newest first.

    python -m tools.refusals                                   # the dropshop-dev stack
    python -m tools.refusals --stack dropshop-prod --origin s3://<bucket>/incoming/accounts.json
    python -m tools.refusals --local                           # the stack `make local` runs
    python -m tools.refusals --table <LogTable name>           # a table by name (AWS_ENDPOINT_URL for another)

A refused record is a record that was not written to AccountTable (invalid, unreadable, or not written after
retries), and a file that could not be read on is one entry at the position where reading stopped: this is
the one place an operator looks for every failure. `--origin` reads one file's (or `POST /writer`'s) entries
through the byOrigin index; without it the table is scanned.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3

from tools.aws_errors import one_line

DEFAULT_STACK = "dropshop-dev"
LOCAL_HINT = "`make refusals LOCAL=1` for the stack `make local` runs"


def log_table(stack_name: str) -> str:
    resource = boto3.client("cloudformation").describe_stack_resource(
        StackName=stack_name, LogicalResourceId="LogTable"
    )
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def entries(dynamodb: Any, table: str, origin: str | None) -> Iterator[dict[str, Any]]:
    if origin:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table,
            IndexName="byOrigin",
            KeyConditionExpression="origin = :origin",
            ExpressionAttributeValues={":origin": {"S": origin}},
            ScanIndexForward=False,
        )
    else:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    for page in pages:
        for item in page["Items"]:
            yield {name: next(iter(value.values())) for name, value in item.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default=DEFAULT_STACK)
    parser.add_argument("--table", help="LogTable's name (default: read from the stack)")
    parser.add_argument("--origin", help="only this origin: s3://bucket/key or 'POST /writer'")
    parser.add_argument("--local", action="store_true", help="the stack `make local` runs (no AWS settings needed)")
    args = parser.parse_args(argv)
    with one_line("refusals", local_hint=LOCAL_HINT):
        if args.local:
            from tools.local.__main__ import running

            local = running("refusals")
            dynamodb = boto3.client(
                "dynamodb",
                endpoint_url=local["aws"],
                region_name=local["region"],
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
            table = args.table or local["logTable"]
        else:
            dynamodb, table = boto3.client("dynamodb"), args.table or log_table(args.stack)
        found = sorted(entries(dynamodb, table, args.origin), key=lambda e: e["loggedAt"], reverse=True)
    for entry in found:
        print(json.dumps(entry, ensure_ascii=False))
    print(f"{len(found)} refused records in {table}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
