"""OrdersTable: an order and its history share a partition (pk orderId; sk `order` or `history#<at>#<event>`),
so one query reads both. Three sparse indexes (order items only: history entries have no placedAt) list them
newest first: byCustomer a customer's orders, newestFirst every order (its partition is the entry `order`),
byStatus the orders in one status (an order moves partition when its status changes)."""

from __future__ import annotations

import json
from typing import Any

from dropshop.orders.model import CreditNoteSummary, InvoiceSummary, Order, OrderLine, OrderStatus, StatusChange
from dropshop.platform.bus import DomainEvent, outbox_put
from dropshop.platform.dynamodb import TransactionCancelled, retry_transient, transact_write
from dropshop.platform.pagination import read_page

ORDER_ENTRY = "order"
HISTORY_PREFIX = "history#"


class OrderRepository:
    def __init__(self, dynamodb: Any, table: str, outbox_table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._outbox = outbox_table

    def add(self, order: Order, stock_moves: list[dict[str, Any]], event: DomainEvent) -> None:
        """Store the order, its stock moves and its event in one transaction. TransactionCancelled names
        the indexes that failed: stock moves first, in line order; a conflict or throttle raises it too (transient):
        the caller reads the stock again before it retries."""
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _item(order),
                "ConditionExpression": "attribute_not_exists(orderId)",
            }
        }
        transact_write(self._dynamodb, [*stock_moves, put, outbox_put(event, self._outbox)], retry=False)

    def move(self, order: Order, previous: OrderStatus, stock_moves: list[dict[str, Any]], event: DomainEvent) -> bool:
        """Save a status change made from `previous`; False when the order is no longer in that status."""
        update = {
            "Update": {
                "TableName": self._table,
                "Key": _key(order.order_id, ORDER_ENTRY),
                "UpdateExpression": "SET #status = :status, updatedAt = :at, updatedBy = :by",
                "ConditionExpression": "#status = :previous",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":status": {"S": order.status.value},
                    ":previous": {"S": previous.value},
                    ":at": {"S": order.updated_at},
                    ":by": {"S": order.updated_by},
                },
            }
        }
        try:
            transact_write(self._dynamodb, [update, *stock_moves, outbox_put(event, self._outbox)])
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_conditions:
                return False
            raise
        return True

    def record(self, order_id: str, change: StatusChange) -> bool:
        """Add a history entry; False when this event's entry is already there (a redelivery)."""
        entry = f"{HISTORY_PREFIX}{change.at}#{change.event_id}"
        item = _key(order_id, entry) | {
            "status": {"S": change.status.value},
            "at": {"S": change.at},
            "by": {"S": change.by},
            "eventId": {"S": change.event_id},
        }
        if change.previous:
            item["previous"] = {"S": change.previous.value}
        try:
            retry_transient(
                lambda: self._dynamodb.put_item(
                    TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(orderId)"
                )
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def attach_invoice(self, order_id: str, invoice: InvoiceSummary) -> bool:
        """Show the invoice on the order; False when the order does not exist."""
        return self._set_on_order(order_id, "invoice", invoice.number, invoice.issued_at)

    def attach_credit_note(self, order_id: str, note: CreditNoteSummary) -> bool:
        """Show the credit note on the order; False when the order does not exist."""
        return self._set_on_order(order_id, "creditNote", note.number, note.issued_at)

    def _set_on_order(self, order_id: str, document: str, number: str, issued_at: str) -> bool:
        """Set `<document>Number` and `<document>IssuedAt` on the order; False when the order does not exist. An
        update racing the order's own status change (a transaction on its item) is sent again."""
        try:
            retry_transient(
                lambda: self._dynamodb.update_item(
                    TableName=self._table,
                    Key=_key(order_id, ORDER_ENTRY),
                    UpdateExpression=f"SET {document}Number = :number, {document}IssuedAt = :at",
                    ConditionExpression="attribute_exists(orderId)",
                    ExpressionAttributeValues={":number": {"S": number}, ":at": {"S": issued_at}},
                )
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, order_id: str) -> Order | None:
        items = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="orderId = :id",
            ExpressionAttributeValues={":id": {"S": order_id}},
            ConsistentRead=True,
        ).get("Items", [])
        orders = [item for item in items if item["entry"]["S"] == ORDER_ENTRY]
        if not orders:
            return None
        history = [_change(item) for item in items if item["entry"]["S"].startswith(HISTORY_PREFIX)]
        return _order(orders[0]).model_copy(update={"history": history})

    def page_for(
        self, customer_id: str, *, status: OrderStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Order], str | None]:
        """The customer's orders, newest first (without their history: that is on each order's own page). A status
        filters the customer's own partition: the pages read past the customer's other orders, still full."""
        within = {"customerId": {"S": customer_id}}
        request = _newest_first("byCustomer", within)
        if status is not None:
            within["status"] = {"S": status.value}
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"]["#status"] = "status"
            request["ExpressionAttributeValues"][":status"] = within["status"]
        return self._page(request, within, limit=limit, cursor=cursor)

    def page_all(self, *, status: OrderStatus | None, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        """Every customer's orders, or those in `status` (byStatus reads only those), newest first."""
        if status is None:
            within = {"entry": {"S": ORDER_ENTRY}}
            return self._page(_newest_first("newestFirst", within), within, limit=limit, cursor=cursor)
        within = {"status": {"S": status.value}}
        return self._page(_newest_first("byStatus", within), within, limit=limit, cursor=cursor)

    def _page(
        self, request: dict[str, Any], within: dict[str, Any], *, limit: int, cursor: str | None
    ) -> tuple[list[Order], str | None]:
        partition = request["ExpressionAttributeNames"]["#partition"]
        items, next_cursor = read_page(
            self._dynamodb.query,
            request | {"TableName": self._table, "Limit": limit},
            cursor=cursor,
            # A page's last key: the table's key and the index's.
            key_attributes={"orderId", "entry", "placedAt", partition},
            within=within,
        )
        return [_order(item) for item in items], next_cursor


def _newest_first(index: str, partition: dict[str, Any]) -> dict[str, Any]:
    """A query of one partition of `index` (keyed by placedAt), newest first."""
    ((name, value),) = partition.items()
    return {
        "IndexName": index,
        "KeyConditionExpression": "#partition = :partition",
        "ExpressionAttributeNames": {"#partition": name},
        "ExpressionAttributeValues": {":partition": value},
        "ScanIndexForward": False,
    }


def _key(order_id: str, entry: str) -> dict[str, Any]:
    return {"orderId": {"S": order_id}, "entry": {"S": entry}}


def _item(order: Order) -> dict[str, Any]:
    lines = [line.model_dump(mode="json") for line in order.lines]
    return _key(order.order_id, ORDER_ENTRY) | {
        "customerId": {"S": order.customer_id},
        "status": {"S": order.status.value},
        # Lines are written once and always read whole: one JSON attribute, not a map per line.
        "lines": {"S": json.dumps(lines, separators=(",", ":"))},
        "totalAmount": {"N": str(order.total.amount)},
        "currency": {"S": order.total.currency},
        "placedAt": {"S": order.placed_at},
        "updatedAt": {"S": order.updated_at},
        "updatedBy": {"S": order.updated_by},
    }


def _order(item: dict[str, Any]) -> Order:
    invoice = None
    if "invoiceNumber" in item:
        invoice = InvoiceSummary(number=item["invoiceNumber"]["S"], issued_at=item["invoiceIssuedAt"]["S"])
    credit_note = None
    if "creditNoteNumber" in item:
        credit_note = CreditNoteSummary(number=item["creditNoteNumber"]["S"], issued_at=item["creditNoteIssuedAt"]["S"])
    return Order.model_validate(
        {
            "orderId": item["orderId"]["S"],
            "customerId": item["customerId"]["S"],
            "status": item["status"]["S"],
            "lines": [OrderLine.model_validate(line) for line in json.loads(item["lines"]["S"])],
            "total": {"amount": int(item["totalAmount"]["N"]), "currency": item["currency"]["S"]},
            "placedAt": item["placedAt"]["S"],
            "updatedAt": item["updatedAt"]["S"],
            "updatedBy": item["updatedBy"]["S"],
            "invoice": invoice,
            "creditNote": credit_note,
        }
    )


def _change(item: dict[str, Any]) -> StatusChange:
    return StatusChange(
        status=OrderStatus(item["status"]["S"]),
        previous=OrderStatus(item["previous"]["S"]) if "previous" in item else None,
        at=item["at"]["S"],
        by=item["by"]["S"],
        event_id=item["eventId"]["S"],
    )
