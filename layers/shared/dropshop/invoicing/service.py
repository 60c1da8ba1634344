"""Use cases of invoicing: issue the invoice of a confirmed order and the credit note of a cancelled invoiced
order (each once, under a gapless number of its own series), and hand their owner short-lived links to the PDFs.

Confirmations and cancellations reach InvoiceFunction in no guaranteed order, and may be handled at the same
time. The rule that makes every interleaving end well: a credit note is issued for an *issued* invoice of a
CANCELLED order, by whichever path sees both last. The cancellation path credits an invoice already issued;
the invoice path, once its invoice is issued, reads the order again and credits it if it was cancelled
meanwhile. The order is cancelled before its event is published, so at least one of the two sees both; when
both do, the credit note's own conditional numbering keeps it to one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dropshop.identity import service as identity
from dropshop.identity.model import Principal
from dropshop.invoicing.documents import InvoiceDocuments
from dropshop.invoicing.events import credit_note_issued, invoice_issued
from dropshop.invoicing.model import CreditNote, CreditNoteLink, Invoice, InvoiceLink, TaxDocument
from dropshop.invoicing.repository import Allocation, InvoiceRepository
from dropshop.orders import service as orders
from dropshop.orders.model import OrderStatus
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.clock import now_iso
from dropshop.platform.dynamodb import backoff
from dropshop.platform.errors import Conflict, NotFound
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

# Concurrent documents race for their series' next number; the loser reads the counter again.
ALLOCATION_ATTEMPTS = 10
LINK_SECONDS = 300

Renderer = Callable[[TaxDocument], bytes]


def _invoices() -> InvoiceRepository:
    s = settings()
    return InvoiceRepository(aws.client("dynamodb"), s.invoices_table, s.outbox_table)


def _documents() -> InvoiceDocuments:
    # Signature V4: the only one S3 accepts for KMS-encrypted objects, and what regional endpoints expect.
    return InvoiceDocuments(aws.client("s3", signature_version="s3v4"), settings().invoices_bucket)


def on_order_status_changed(event: DomainEvent, *, render: Renderer) -> None:
    """InvoiceQueue's events: a confirmed order is invoiced, a cancelled invoiced order credited."""
    order_id, status = event.data["orderId"], event.data["status"]
    if status == OrderStatus.CONFIRMED:
        issue_invoice(order_id, render=render)
    elif status == OrderStatus.CANCELLED:
        issue_credit_note(order_id, render=render)


def issue_invoice(order_id: str, *, render: Renderer) -> Invoice | None:
    """Number the order's invoice, store its PDF and announce InvoiceIssued. Each step is safe to repeat:
    a redelivered event finds the number taken by this order, and an issued invoice is left alone. An order
    cancelled before its invoice was numbered gets none (None); one cancelled after gets its credit note."""
    invoice = _invoices().get(Invoice, order_id) or _allocate_invoice(order_id)
    if invoice is None:
        return None
    if invoice.issued:
        logger.info("invoice already issued", extra={"orderId": order_id, "invoiceNumber": invoice.number})
    else:
        invoice = _issue(invoice, invoice_issued(invoice), render, metric="InvoicesIssued")
    order = orders.find(order_id)
    if order is not None and order.status is OrderStatus.CANCELLED:  # cancelled while it was being invoiced
        _credit(invoice, render)
    return invoice


def issue_credit_note(order_id: str, *, render: Renderer) -> CreditNote | None:
    """Credit the cancelled order's issued invoice: its credit note is numbered, stored and announced
    (CreditNoteIssued) once. None when the order has no issued invoice: never invoiced, or its invoice is
    being issued right now, and that path credits it once it is done (see the module's docstring). None too
    for an order that is not cancelled (CANCELLED is final): only the order itself says what was cancelled."""
    order = orders.find(order_id)
    if order is None or order.status is not OrderStatus.CANCELLED:
        logger.warning("credit note asked for an order that is not cancelled", extra={"orderId": order_id})
        return None
    invoice = _invoices().get(Invoice, order_id)
    if invoice is None or not invoice.issued:
        logger.info("no issued invoice to credit", extra={"orderId": order_id, "numbered": invoice is not None})
        return None
    return _credit(invoice, render)


def _credit(invoice: Invoice, render: Renderer) -> CreditNote:
    note = _invoices().get(CreditNote, invoice.order_id) or _allocate_credit_note(invoice)
    if note.issued:
        logger.info("credit note already issued", extra={"orderId": note.order_id, "creditNoteNumber": note.number})
        return note
    return _issue(note, credit_note_issued(note), render, metric="CreditNotesIssued")


def _issue[D: TaxDocument](document: D, event: DomainEvent, render: Renderer, *, metric: str) -> D:
    """Store the numbered document's PDF, then mark it issued together with its event (once)."""
    _documents().store(document, render(document))
    if _invoices().mark_issued(document, event):
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        logger.info(f"{document.TITLE.lower()} issued", extra={"orderId": document.order_id, "number": document.number})
    return document.model_copy(update={"issued": True})


def _allocate_invoice(order_id: str) -> Invoice | None:
    order = orders.find(order_id)
    if order is None:
        raise NotFound(f"no order {order_id} to invoice", field="orderId")
    if order.status is OrderStatus.CANCELLED:  # cancelled between its confirmation and now: nothing was sold
        metrics.add_metric(name="InvoicesSkippedForCancelledOrders", unit=MetricUnit.Count, value=1)
        logger.info("order cancelled before its invoice was numbered", extra={"orderId": order_id})
        return None
    buyer = identity.contact(order.customer_id)

    def numbered(year: int, sequence: int, now: str) -> Invoice:
        return Invoice.for_order(order, buyer, year=year, sequence=sequence, now=now)

    return _allocate(Invoice, numbered, order_id)


def _allocate_credit_note(invoice: Invoice) -> CreditNote:
    def numbered(year: int, sequence: int, now: str) -> CreditNote:
        return CreditNote.for_invoice(invoice, year=year, sequence=sequence, now=now)

    return _allocate(CreditNote, numbered, invoice.order_id)


def _allocate[D: TaxDocument](kind: type[D], numbered: Callable[[int, int, str], D], order_id: str) -> D:
    """Take the next number of `kind`'s series for this year, or find the one this order already took."""
    invoices = _invoices()
    for attempt in range(ALLOCATION_ATTEMPTS):
        if attempt:
            time.sleep(backoff(attempt))
        now = now_iso()
        year = int(now[:4])
        document = numbered(year, invoices.last_sequence(kind, year) + 1, now)
        outcome = invoices.allocate(document)
        if outcome is Allocation.ALLOCATED:
            return document
        if outcome is Allocation.ALREADY_NUMBERED:
            existing = invoices.get(kind, order_id)
            assert existing is not None  # the condition that failed says it exists
            return existing
    raise Conflict(f"no {kind.TITLE.lower()} number could be taken; the event will be retried", field="number")


def invoice_link(order_id: str, *, caller: Principal, may_read_any: bool) -> InvoiceLink:
    """A link to the order's invoice for its owner or an admin; 404 for someone else's order or before the
    invoice is issued."""
    invoice = _issued(Invoice, order_id, caller=caller, may_read_any=may_read_any)
    if invoice is None:
        raise NotFound(f"order {order_id} has no invoice yet", field="invoice")
    return _link(InvoiceLink, invoice)


def credit_note_link(order_id: str, *, caller: Principal, may_read_any: bool) -> CreditNoteLink:
    """A link to the order's credit note for its owner or an admin; 404 for someone else's order or when the
    order has none (not cancelled, cancelled before it was invoiced, or not yet issued)."""
    note = _issued(CreditNote, order_id, caller=caller, may_read_any=may_read_any)
    if note is None:
        raise NotFound(f"order {order_id} has no credit note", field="creditNote")
    return _link(CreditNoteLink, note)


def _issued[D: TaxDocument](kind: type[D], order_id: str, *, caller: Principal, may_read_any: bool) -> D | None:
    """The order's issued document of `kind`, None while it has none; 404 for someone else's order."""
    orders.get_order(order_id, caller=caller, may_read_any=may_read_any)
    document = _invoices().get(kind, order_id)
    return document if document is not None and document.issued else None


def _link[L: InvoiceLink](model: type[L], document: TaxDocument) -> L:
    url = _documents().link(document, seconds=LINK_SECONDS)
    expires_at = (datetime.now(UTC) + timedelta(seconds=LINK_SECONDS)).isoformat(timespec="seconds")
    return model(number=document.number, url=url, expires_at=expires_at)
