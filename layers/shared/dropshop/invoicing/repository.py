"""InvoicesTable: per order, its invoice (`order#<orderId>`) and its credit note (`credit-note#<orderId>`);
per series and year, one counter (`counter#<year>` for invoices, `credit-note-counter#<year>`).

A number is taken in the same transaction that stores its document: a number is used only by a document that
exists (no gaps), and an order that already has its invoice (or credit note) never takes a second number.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from dropshop.invoicing.model import CreditNote, Invoice, TaxDocument
from dropshop.platform.bus import DomainEvent, outbox_put
from dropshop.platform.dynamodb import TransactionCancelled, transact_write


class Allocation(Enum):
    ALLOCATED = "allocated"
    NUMBER_TAKEN = "number-taken"  # another document took this number meanwhile: read the counter again
    ALREADY_NUMBERED = "already-numbered"  # this order has its document of this kind (a redelivered event)


# Per kind of document: the prefix of its item per order and of its counter per year.
_PREFIXES: dict[type[TaxDocument], tuple[str, str]] = {
    Invoice: ("order#", "counter#"),
    CreditNote: ("credit-note#", "credit-note-counter#"),
}


class InvoiceRepository:
    def __init__(self, dynamodb: Any, table: str, outbox_table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._outbox = outbox_table

    def get[D: TaxDocument](self, kind: type[D], order_id: str) -> D | None:
        """The order's invoice or credit note (by `kind`), None while it has none."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": _document_id(kind, order_id)}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return kind.model_validate(json.loads(item["invoice"]["S"]) | {"issued": item["issued"]["BOOL"]})

    def last_sequence(self, kind: type[TaxDocument], year: int) -> int:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": _counter_id(kind, year)}}, ConsistentRead=True
        ).get("Item")
        return int(item["last"]["N"]) if item else 0

    def allocate(self, document: TaxDocument) -> Allocation:
        """Move its series' counter for the year from `sequence - 1` to `sequence` and store the document,
        both or neither."""
        kind = type(document)
        counter: dict[str, Any] = {
            "Update": {
                "TableName": self._table,
                "Key": {"id": {"S": _counter_id(kind, document.year)}},
                "UpdateExpression": "SET #last = :sequence",
                "ExpressionAttributeNames": {"#last": "last"},
                "ExpressionAttributeValues": {":sequence": {"N": str(document.sequence)}},
            }
        }
        if document.sequence == 1:
            counter["Update"]["ConditionExpression"] = "attribute_not_exists(id)"
        else:
            counter["Update"]["ConditionExpression"] = "#last = :previous"
            counter["Update"]["ExpressionAttributeValues"][":previous"] = {"N": str(document.sequence - 1)}
        stored = {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "id": {"S": _document_id(kind, document.order_id)},
                    "number": {"S": document.number},
                    # `invoice` for both kinds: the attribute predates credit notes.
                    "invoice": {"S": document.model_dump_json(by_alias=True, exclude={"issued"})},
                    "issued": {"BOOL": False},
                },
                "ConditionExpression": "attribute_not_exists(id)",
            }
        }
        try:
            transact_write(self._dynamodb, [counter, stored])
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed_conditions:
                return Allocation.ALREADY_NUMBERED
            if 0 in cancelled.failed_conditions:
                return Allocation.NUMBER_TAKEN
            raise
        return Allocation.ALLOCATED

    def mark_issued(self, document: TaxDocument, event: DomainEvent) -> bool:
        """Mark the document issued and record its event, once; False if that was done already."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": {"id": {"S": _document_id(type(document), document.order_id)}},
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


def _document_id(kind: type[TaxDocument], order_id: str) -> str:
    return f"{_PREFIXES[kind][0]}{order_id}"


def _counter_id(kind: type[TaxDocument], year: int) -> str:
    return f"{_PREFIXES[kind][1]}{year}"
