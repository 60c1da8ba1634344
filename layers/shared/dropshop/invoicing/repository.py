"""InvoicesTable: one item per order's invoice (`order#<orderId>`) and one counter per year (`counter#<year>`).

The number is taken in the same transaction that stores the invoice: a number is used only by an invoice
that exists (no gaps), and an order that already has its invoice never takes a second number.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from dropshop.invoicing.model import Invoice
from dropshop.platform.bus import DomainEvent, outbox_put
from dropshop.platform.dynamodb import TransactionCancelled, transact_write


class Allocation(Enum):
    ALLOCATED = "allocated"
    NUMBER_TAKEN = "number-taken"  # another invoice took this number meanwhile: read the counter again
    ALREADY_INVOICED = "already-invoiced"  # this order has its invoice (a redelivered event)


class InvoiceRepository:
    def __init__(self, dynamodb: Any, table: str, outbox_table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._outbox = outbox_table

    def get(self, order_id: str) -> Invoice | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": _invoice_id(order_id)}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return Invoice.model_validate(json.loads(item["invoice"]["S"]) | {"issued": item["issued"]["BOOL"]})

    def last_sequence(self, year: int) -> int:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": _counter_id(year)}}, ConsistentRead=True
        ).get("Item")
        return int(item["last"]["N"]) if item else 0

    def allocate(self, invoice: Invoice) -> Allocation:
        """Move the year's counter from `invoice.sequence - 1` to `invoice.sequence` and store the invoice,
        both or neither."""
        counter: dict[str, Any] = {
            "Update": {
                "TableName": self._table,
                "Key": {"id": {"S": _counter_id(invoice.year)}},
                "UpdateExpression": "SET #last = :sequence",
                "ExpressionAttributeNames": {"#last": "last"},
                "ExpressionAttributeValues": {":sequence": {"N": str(invoice.sequence)}},
            }
        }
        if invoice.sequence == 1:
            counter["Update"]["ConditionExpression"] = "attribute_not_exists(id)"
        else:
            counter["Update"]["ConditionExpression"] = "#last = :previous"
            counter["Update"]["ExpressionAttributeValues"][":previous"] = {"N": str(invoice.sequence - 1)}
        stored = {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "id": {"S": _invoice_id(invoice.order_id)},
                    "number": {"S": invoice.number},
                    "invoice": {"S": invoice.model_dump_json(by_alias=True, exclude={"issued"})},
                    "issued": {"BOOL": False},
                },
                "ConditionExpression": "attribute_not_exists(id)",
            }
        }
        try:
            transact_write(self._dynamodb, [counter, stored])
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed_conditions:
                return Allocation.ALREADY_INVOICED
            if 0 in cancelled.failed_conditions:
                return Allocation.NUMBER_TAKEN
            raise
        return Allocation.ALLOCATED

    def mark_issued(self, invoice: Invoice, event: DomainEvent) -> bool:
        """Mark the invoice issued and record its event, once; False if that was done already."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": {"id": {"S": _invoice_id(invoice.order_id)}},
                "UpdateExpression": "SET issued = :true",
                "ConditionExpression": "issued = :false",
                "ExpressionAttributeValues": {":true": {"BOOL": True}, ":false": {"BOOL": False}},
            }
        }
        try:
            transact_write(self._dynamodb, [update, outbox_put(event, self._outbox)])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_conditions:
                return False
            raise
        return True


def _invoice_id(order_id: str) -> str:
    return f"order#{order_id}"


def _counter_id(year: int) -> str:
    return f"counter#{year}"
