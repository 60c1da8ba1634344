"""Use cases of invoicing: issue the invoice of a confirmed order (once, under a gapless number) and hand its
owner a short-lived link to the PDF."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dropshop.identity import service as identity
from dropshop.identity.model import Principal
from dropshop.invoicing.documents import InvoiceDocuments
from dropshop.invoicing.events import invoice_issued
from dropshop.invoicing.model import Invoice, InvoiceLink
from dropshop.invoicing.repository import Allocation, InvoiceRepository
from dropshop.orders import service as orders
from dropshop.orders.model import OrderStatus
from dropshop.platform import aws
from dropshop.platform.clock import now_iso
from dropshop.platform.dynamodb import backoff
from dropshop.platform.errors import Conflict, NotFound
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

# Concurrent invoices race for the year's next number; the loser reads the counter again.
ALLOCATION_ATTEMPTS = 10
LINK_SECONDS = 300

Renderer = Callable[[Invoice], bytes]


def _invoices() -> InvoiceRepository:
    s = settings()
    return InvoiceRepository(aws.client("dynamodb"), s.invoices_table, s.outbox_table)


def _documents() -> InvoiceDocuments:
    # Signature V4: the only one S3 accepts for KMS-encrypted objects, and what regional endpoints expect.
    return InvoiceDocuments(aws.client("s3", signature_version="s3v4"), settings().invoices_bucket)


def issue_invoice(order_id: str, *, render: Renderer) -> Invoice | None:
    """Number the order's invoice, store its PDF and announce InvoiceIssued. Each step is safe to repeat:
    a redelivered event finds the number taken by this order, and an issued invoice is left alone. An order
    cancelled before its invoice was numbered gets none (None)."""
    invoice = _invoices().get(order_id) or _allocate(order_id)
    if invoice is None:
        return None
    if invoice.issued:
        logger.info("invoice already issued", extra={"orderId": order_id, "invoiceNumber": invoice.number})
        return invoice
    _documents().store(invoice, render(invoice))
    if _invoices().mark_issued(invoice, invoice_issued(invoice)):
        metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=1)
        logger.info("invoice issued", extra={"orderId": order_id, "invoiceNumber": invoice.number})
    return invoice.model_copy(update={"issued": True})


def _allocate(order_id: str) -> Invoice | None:
    order = orders.find(order_id)
    if order is None:
        raise NotFound(f"no order {order_id} to invoice", field="orderId")
    if order.status is OrderStatus.CANCELLED:  # cancelled between its confirmation and now: nothing was sold
        metrics.add_metric(name="InvoicesSkippedForCancelledOrders", unit=MetricUnit.Count, value=1)
        logger.info("order cancelled before its invoice was numbered", extra={"orderId": order_id})
        return None
    buyer = identity.contact(order.customer_id)
    invoices = _invoices()
    for attempt in range(ALLOCATION_ATTEMPTS):
        if attempt:
            time.sleep(backoff(attempt))
        now = now_iso()
        year = int(now[:4])
        invoice = Invoice.for_order(order, buyer, year=year, sequence=invoices.last_sequence(year) + 1, now=now)
        outcome = invoices.allocate(invoice)
        if outcome is Allocation.ALLOCATED:
            return invoice
        if outcome is Allocation.ALREADY_INVOICED:
            existing = invoices.get(order_id)
            assert existing is not None  # the condition that failed says it exists
            return existing
    raise Conflict("no invoice number could be taken; the event will be retried", field="invoiceNumber")


def invoice_link(order_id: str, *, caller: Principal, may_read_any: bool) -> InvoiceLink:
    """A link to the order's invoice for its owner or an admin; 404 for someone else's order or before the
    invoice is issued."""
    orders.get_order(order_id, caller=caller, may_read_any=may_read_any)
    invoice = _invoices().get(order_id)
    if invoice is None or not invoice.issued:
        raise NotFound(f"order {order_id} has no invoice yet", field="invoice")
    expires = datetime.now(UTC) + timedelta(seconds=LINK_SECONDS)
    return InvoiceLink(
        number=invoice.number,
        url=_documents().link(invoice, seconds=LINK_SECONDS),
        expires_at=expires.isoformat(timespec="seconds"),
    )
