"""Invoicing's use cases and repository on moto (InvoicesTable and the orders' tables as the template declares them,
the invoices bucket versioned, the buyer in Cognito): invoices and credit notes numbered without gaps, stored as
PDFs, announced once however often their events arrive and whatever races their numbering meets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.catalog import service as catalog
from dropshop.catalog.model import Price, ProductDraft
from dropshop.identity.model import Principal
from dropshop.invoicing import service
from dropshop.invoicing.model import CreditNote, Invoice, credit_note_number, invoice_number
from dropshop.invoicing.repository import Allocation, InvoiceRepository
from dropshop.orders import service as orders
from dropshop.orders.model import ChangeStatus, LineRequest, Order, OrderStatus, PlaceOrder
from dropshop.platform import aws
from dropshop.platform.bus import DomainEvent
from dropshop.platform.dynamodb import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_MAX_SECONDS,
    CONFLICT_ATTEMPTS,
    TransactionCancelled,
)
from dropshop.platform.errors import Conflict, NotFound, ServiceUnavailable
from handlers.invoice.invoice_pdf import render
from tests.support import container
from tests.support.faults import THROTTLING_ERROR, TRANSACTION_CONFLICT, DynamoDBWeather
from tests.support.logs import LogLines
from tests.support.properties import budget
from tests.support.tables import create_declared_table

PRODUCTS, ORDERS, OUTBOX, INVOICES, BUCKET = "products", "orders", "outbox", "invoices", "dropshop-invoices"
ADMIN = Principal(user_id="admin-sub", username="ada", groups=["admins"])
CATALOG: dict[str, str] = {}  # the test's products by name


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("dynamodb")
        for logical_id, name in [
            ("ProductsTable", PRODUCTS),
            ("OrdersTable", ORDERS),
            ("OutboxTable", OUTBOX),
            ("InvoicesTable", INVOICES),
        ]:
            create_declared_table(client, logical_id, name)
        s3 = aws_session.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws_session.region_name})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        idp = aws_session.client("cognito-idp")
        # The pool alone: invoicing reads its users' attributes, never its groups or app clients.
        pool_id = idp.create_user_pool(PoolName="dropshop-users")["UserPool"]["Id"]
        for name, value in [
            ("PRODUCTS_TABLE", PRODUCTS),
            ("ORDERS_TABLE", ORDERS),
            ("OUTBOX_TABLE", OUTBOX),
            ("INVOICES_TABLE", INVOICES),
            ("INVOICES_BUCKET", BUCKET),
            ("USER_POOL_ID", pool_id),
        ]:
            monkeypatch.setenv(name, value)
        container.cold_start()
        for product, amount in [("Mug", 1250), ("Lamp", 4999)]:  # what every order of the test buys
            price = Price(amount=amount, currency="EUR")
            draft = ProductDraft(name=product, category="kitchen", price=price, stock=500)
            CATALOG[product] = catalog.add_product(draft).product_id
        yield client, s3, idp, pool_id
    CATALOG.clear()
    container.cold_start()


@pytest.fixture
def dynamodb(stack: Any) -> Any:
    return stack[0]


@pytest.fixture
def s3(stack: Any) -> Any:
    return stack[1]


@pytest.fixture
def jane(stack: Any) -> Principal:
    """A customer in the directory, with the name and e-mail address her invoices carry."""
    _, _, idp, pool_id = stack
    attributes = {"email": "jane@example.com", "name": "Jane Doe", "email_verified": "true"}
    created = idp.admin_create_user(
        UserPoolId=pool_id,
        Username="jane",
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        MessageAction="SUPPRESS",
    )
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    return Principal(user_id=sub, username="jane", groups=["customers"])


JOE = Principal(user_id="c-joe", username="joe", groups=["customers"])


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(service.time, "sleep", waited.append)
    return waited


def an_order(customer: Principal, *, status: OrderStatus | None = OrderStatus.CONFIRMED) -> Order:
    """A placed order of two lines (two mugs, a lamp), moved to `status` (the admin's doing)."""
    request = PlaceOrder(
        lines=[LineRequest(product_id=CATALOG["Mug"], quantity=2), LineRequest(product_id=CATALOG["Lamp"], quantity=1)]
    )
    order = orders.place_order(request, customer=customer)
    path = {OrderStatus.SHIPPED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED]}.get(status, [status])
    for step in path:
        if step is not None and step is not OrderStatus.PLACED:
            order = orders.change_status(order.order_id, ChangeStatus(status=step), by=ADMIN.user_id)
    return order


def cancel(order: Order) -> Order:
    return orders.change_status(order.order_id, ChangeStatus(status=OrderStatus.CANCELLED), by=ADMIN.user_id)


def status_changed(order_id: str, status: OrderStatus) -> DomainEvent:
    return DomainEvent(type="OrderStatusChanged", source="orders", data={"orderId": order_id, "status": status.value})


def announced(dynamodb: Any, kind: str) -> list[dict[str, Any]]:
    events = [json.loads(item["event"]["S"]) for item in dynamodb.scan(TableName=OUTBOX)["Items"]]
    return [event for event in events if event["type"] == kind]


def stored(dynamodb: Any, prefix: str) -> dict[str, dict[str, Any]]:
    """InvoicesTable's items whose id starts with `prefix`, by id."""
    items = dynamodb.scan(TableName=INVOICES)["Items"]
    return {item["id"]["S"]: item for item in items if item["id"]["S"].startswith(prefix)}


def versions(s3: Any, key: str) -> list[dict[str, Any]]:
    return [v for v in s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", []) if v["Key"] == key]


def on_calls(operation: str, action: Callable[[int, dict[str, Any]], None]) -> list[int]:
    """Run `action(n, params)` before the n-th call of `operation` by the layer's DynamoDB client."""
    calls: list[int] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        calls.append(len(calls))  # first: an action that calls `operation` itself sees the next n
        action(calls[-1], params)

    aws.client("dynamodb").meta.events.register(f"provide-client-params.dynamodb.{operation}", hook)
    return calls


def this_year() -> int:
    return datetime.now(UTC).year


# ---------------------------------------------------------------- invoices


def test_a_confirmed_order_is_invoiced_once_numbered_stored_as_a_pdf_and_announced(
    dynamodb: Any, s3: Any, jane: Principal, logs: LogLines, emitted: dict[str, Any]
) -> None:
    order = an_order(jane)
    service.on_order_status_changed(status_changed(order.order_id, OrderStatus.CONFIRMED), render=render)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    year = this_year()
    assert (invoice.number, invoice.year, invoice.sequence, invoice.issued) == (invoice_number(year, 1), year, 1, True)
    assert (invoice.order_id, invoice.customer_id) == (order.order_id, jane.user_id)
    assert (invoice.customer_name, invoice.customer_email) == ("Jane Doe", "jane@example.com")
    assert (invoice.total.amount, [line.quantity for line in invoice.lines]) == (order.total.amount, [2, 1])
    assert InvoiceRepository(dynamodb, INVOICES, OUTBOX).get(Invoice, order.order_id) == invoice
    assert stored(dynamodb, "counter#")[f"counter#{year}"]["last"] == {"N": "1"}
    assert len(versions(s3, invoice.document_key)) == 1  # a redelivery stores no second render
    pdf = s3.get_object(Bucket=BUCKET, Key=invoice.document_key)
    assert pdf["Body"].read() == render(invoice)
    assert (pdf["ContentType"], pdf["ContentDisposition"]) == (
        "application/pdf",
        f'inline; filename="{invoice.number}.pdf"',
    )
    assert pdf["Metadata"] == {"order-id": order.order_id, "invoice-number": invoice.number}
    (event,) = announced(dynamodb, "InvoiceIssued")
    assert (event["data"]["invoiceNumber"], event["data"]["orderId"]) == (invoice.number, order.order_id)
    assert (emitted["InvoicesIssued"]["Unit"], emitted["InvoicesIssued"]["Value"]) == ("Count", [1])
    issued = [(line["orderId"], line["number"]) for line in logs.with_message("invoice issued")]
    assert issued == [(order.order_id, invoice.number)]
    again = [(line["orderId"], line["invoiceNumber"]) for line in logs.with_message("invoice already issued")]
    assert again == [(order.order_id, invoice.number)]
    assert stored(dynamodb, "credit-note") == {}
    item = stored(dynamodb, "order#")[f"order#{order.order_id}"]
    assert (item["number"], item["issued"]) == ({"S": invoice.number}, {"BOOL": True})
    # The stored document, as older items hold it too: the API's field names, its state in `issued` alone.
    assert json.loads(item["invoice"]["S"]) == invoice.model_dump(mode="json", by_alias=True, exclude={"issued"})


@given(picks=st.lists(st.integers(0, 2), min_size=1, max_size=6))
@budget(6)
def test_invoices_of_confirmed_orders_take_consecutive_numbers_one_each_whatever_the_redeliveries(
    dynamodb: Any, jane: Principal, picks: list[int]
) -> None:
    """Events for three orders arrive in any order, some more than once: each order gets one number, and the
    numbers taken are the next ones of the series, without gaps."""
    year = this_year()
    counter = stored(dynamodb, "counter#").get(f"counter#{year}")
    before = int(counter["last"]["N"]) if counter else 0
    confirmed = [an_order(jane) for _ in range(3)]
    numbers: dict[str, set[int]] = {}
    for pick in picks:
        invoice = service.issue_invoice(confirmed[pick].order_id, render=render)
        assert invoice is not None
        numbers.setdefault(invoice.order_id, set()).add(invoice.sequence)
    assert all(len(taken) == 1 for taken in numbers.values())
    assert sorted(n for taken in numbers.values() for n in taken) == list(range(before + 1, before + len(numbers) + 1))
    assert len(announced(dynamodb, "InvoiceIssued")) == before + len(numbers)


def test_a_redelivered_event_finds_its_issued_invoice_or_credit_note_and_writes_nothing(
    dynamodb: Any, jane: Principal
) -> None:
    """An issued document is read back, not allocated again: no transaction, no number asked for."""
    order = an_order(jane)
    invoice = service.issue_invoice(order.order_id, render=render)
    cancel(order)
    note = service.issue_credit_note(order.order_id, render=render)
    transactions = on_calls("TransactWriteItems", lambda n, params: None)
    assert service.issue_invoice(order.order_id, render=render) == invoice
    assert service.issue_credit_note(order.order_id, render=render) == note
    assert transactions == [], "a redelivery must not allocate again"


def test_another_order_taking_the_number_meanwhile_sends_this_one_to_the_next(
    dynamodb: Any, jane: Principal, sleeps: list[float]
) -> None:
    first, second = an_order(jane), an_order(jane)
    repository = InvoiceRepository(dynamodb, INVOICES, OUTBOX)

    def other_takes_it(n: int, _: dict[str, Any]) -> None:
        if n == 0:
            other = Invoice.for_order(second, None, year=this_year(), sequence=1, now="2026-12-07T09:00:00.000+00:00")
            assert repository.allocate(other) is Allocation.ALLOCATED

    on_calls("TransactWriteItems", other_takes_it)
    invoice = service.issue_invoice(first.order_id, render=render)
    assert invoice is not None
    assert invoice.sequence == 2
    assert len(sleeps) == 1
    assert stored(dynamodb, "counter#")[f"counter#{this_year()}"]["last"] == {"N": "2"}


def test_numbers_taken_by_others_at_every_attempt_end_in_a_conflict_and_nothing_of_this_order_stored(
    dynamodb: Any, jane: Principal, sleeps: list[float]
) -> None:
    mine = an_order(jane)
    others = [an_order(jane) for _ in range(service.ALLOCATION_ATTEMPTS)]
    repository = InvoiceRepository(dynamodb, INVOICES, OUTBOX)

    def others_take_it(n: int, params: dict[str, Any]) -> None:
        if n < len(others):
            sequence = int(params["TransactItems"][0]["Update"]["ExpressionAttributeValues"][":sequence"]["N"])
            other = Invoice.for_order(others[n], None, year=this_year(), sequence=sequence, now="2026-12-07T09:00Z")
            assert repository.allocate(other) is Allocation.ALLOCATED

    calls = on_calls("TransactWriteItems", others_take_it)
    with pytest.raises(Conflict) as refused:
        service.issue_invoice(mine.order_id, render=render)
    assert (refused.value.field, refused.value.message) == (
        "number",
        "no invoice number could be taken; the event will be retried",
    )
    assert (len(calls), len(sleeps)) == (service.ALLOCATION_ATTEMPTS, service.ALLOCATION_ATTEMPTS - 1)
    ceilings = [min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) for attempt in range(1, len(calls))]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleeps, ceilings, strict=True)), "full-jitter backoff"
    assert f"order#{mine.order_id}" not in stored(dynamodb, "order#")


def test_a_redelivery_that_numbers_the_invoice_meanwhile_leaves_one_invoice_and_no_gap(
    dynamodb: Any, s3: Any, jane: Principal
) -> None:
    """Two deliveries of one confirmation at once: the other takes number 1 for this order after this one found
    no invoice and before it reads the counter. This one's number 2 must not be stored over it: the document's
    own condition (it does not exist yet) is what refuses it, since the counter's (1 before 2) holds."""
    order = an_order(jane)
    repository = InvoiceRepository(dynamodb, INVOICES, OUTBOX)

    def the_other_delivery(n: int, params: dict[str, Any]) -> None:
        if params["Key"]["id"]["S"].startswith("counter#") and n <= 1:
            first = Invoice.for_order(order, None, year=this_year(), sequence=1, now="2026-12-07T09:00:00.000+00:00")
            if repository.get(Invoice, order.order_id) is None:
                assert repository.allocate(first) is Allocation.ALLOCATED

    on_calls("GetItem", the_other_delivery)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    assert (invoice.sequence, invoice.issued) == (1, True)
    assert stored(dynamodb, "counter#")[f"counter#{this_year()}"]["last"] == {"N": "1"}
    assert list(stored(dynamodb, "order#")) == [f"order#{order.order_id}"]
    assert len(announced(dynamodb, "InvoiceIssued")) == 1
    assert repository.allocate(invoice.model_copy(update={"sequence": 2})) is Allocation.ALREADY_NUMBERED


@pytest.mark.parametrize("code", [TRANSACTION_CONFLICT, THROTTLING_ERROR])
def test_numbering_and_issuing_cancelled_for_a_conflict_or_throttle_are_sent_again(
    dynamodb: Any, jane: Principal, code: str
) -> None:
    """TransactionCanceledException for TransactionConflict or ThrottlingError wrote nothing ("Cancellation reason
    codes", https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html)."""
    order = an_order(jane)
    weather = DynamoDBWeather().script("TransactWriteItems", code, 2, table=INVOICES).attach(aws.client("dynamodb"))
    invoice = service.issue_invoice(order.order_id, render=render)
    assert weather.injected == {f"TransactWriteItems {code}": 2}
    assert invoice is not None
    assert (invoice.sequence, len(announced(dynamodb, "InvoiceIssued"))) == (1, 1)


def test_a_store_busy_past_every_attempt_is_503_and_numbers_nothing(dynamodb: Any, jane: Principal) -> None:
    order = an_order(jane)
    DynamoDBWeather().script("TransactWriteItems", THROTTLING_ERROR, CONFLICT_ATTEMPTS, table=INVOICES).attach(
        aws.client("dynamodb")
    )
    with pytest.raises(ServiceUnavailable):
        service.issue_invoice(order.order_id, render=render)
    assert stored(dynamodb, "") == {}


def test_an_order_cancelled_before_its_invoice_was_numbered_gets_none(
    dynamodb: Any, s3: Any, jane: Principal, logs: LogLines, emitted: dict[str, Any]
) -> None:
    order = cancel(an_order(jane))
    assert service.issue_invoice(order.order_id, render=render) is None
    assert stored(dynamodb, "") == {}
    assert s3.list_object_versions(Bucket=BUCKET).get("Versions", []) == []
    assert (
        emitted["InvoicesSkippedForCancelledOrders"]["Unit"],
        emitted["InvoicesSkippedForCancelledOrders"]["Value"],
    ) == (
        "Count",
        [1],
    )
    assert [line["orderId"] for line in logs.with_message("order cancelled before its invoice was numbered")] == [
        order.order_id
    ]


def test_an_unknown_order_cannot_be_invoiced(dynamodb: Any) -> None:
    with pytest.raises(NotFound) as refused:
        service.issue_invoice("ghost", render=render)
    assert (refused.value.field, refused.value.message) == ("orderId", "no order ghost to invoice")


def test_a_buyer_gone_from_the_directory_is_invoiced_without_name_or_address(dynamodb: Any) -> None:
    order = an_order(JOE)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    assert (invoice.customer_id, invoice.customer_name, invoice.customer_email) == (JOE.user_id, None, None)


def test_statuses_other_than_confirmed_and_cancelled_issue_nothing(dynamodb: Any, jane: Principal) -> None:
    order = an_order(jane)
    for status in (OrderStatus.PLACED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        service.on_order_status_changed(status_changed(order.order_id, status), render=render)
    assert stored(dynamodb, "") == {}


# ---------------------------------------------------------------- credit notes


def test_a_cancelled_invoiced_order_is_credited_once_in_its_own_series_and_announced(
    dynamodb: Any, s3: Any, jane: Principal, logs: LogLines, emitted: dict[str, Any]
) -> None:
    order = an_order(jane)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    cancel(order)
    for _ in range(2):  # a redelivery
        service.on_order_status_changed(status_changed(order.order_id, OrderStatus.CANCELLED), render=render)
    note = service.issue_credit_note(order.order_id, render=render)
    assert note is not None
    year = this_year()
    assert (note.number, note.sequence, note.issued) == (credit_note_number(year, 1), 1, True)
    assert (note.invoice_number, note.invoice_issued_at) == (invoice.number, invoice.issued_at)
    assert note.total.amount == -invoice.total.amount
    assert stored(dynamodb, "credit-note-counter#")[f"credit-note-counter#{year}"]["last"] == {"N": "1"}
    assert stored(dynamodb, "counter#")[f"counter#{year}"]["last"] == {"N": "1"}  # invoices' series untouched
    assert InvoiceRepository(dynamodb, INVOICES, OUTBOX).get(CreditNote, order.order_id) == note
    assert len(versions(s3, note.document_key)) == 1
    pdf = s3.get_object(Bucket=BUCKET, Key=note.document_key)
    assert pdf["Body"].read() == render(note)
    assert pdf["Metadata"] == {
        "order-id": order.order_id,
        "credit-note-number": note.number,
        "invoice-number": invoice.number,
    }
    (event,) = announced(dynamodb, "CreditNoteIssued")
    assert (event["data"]["creditNoteNumber"], event["data"]["invoiceNumber"]) == (note.number, invoice.number)
    assert (emitted["CreditNotesIssued"]["Unit"], emitted["CreditNotesIssued"]["Value"]) == ("Count", [1])
    issued = [(line["orderId"], line["number"]) for line in logs.with_message("credit note issued")]
    assert issued == [(order.order_id, note.number)]
    again = [(line["orderId"], line["creditNoteNumber"]) for line in logs.with_message("credit note already issued")]
    assert again == [(order.order_id, note.number)] * 2
    item = stored(dynamodb, "credit-note#")[f"credit-note#{order.order_id}"]
    assert (item["number"], item["issued"]) == ({"S": note.number}, {"BOOL": True})
    assert json.loads(item["invoice"]["S"]) == note.model_dump(mode="json", by_alias=True, exclude={"issued"})


def test_a_redelivery_that_numbers_the_credit_note_meanwhile_leaves_one_credit_note_and_no_gap(
    dynamodb: Any, jane: Principal
) -> None:
    """The credit note's conditional put: a second delivery of the cancellation takes number 1 for this order
    after this one found no credit note and before it reads the counter; this one's number 2 holds the counter's
    condition, so only the document's own (attribute_not_exists) keeps it from a second credit note."""
    order = an_order(jane)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    cancel(order)
    repository = InvoiceRepository(dynamodb, INVOICES, OUTBOX)

    def the_other_delivery(_: int, params: dict[str, Any]) -> None:
        counter = params["Key"]["id"]["S"].startswith("credit-note-counter#")
        if counter and repository.get(CreditNote, order.order_id) is None:
            first = CreditNote.for_invoice(invoice, year=this_year(), sequence=1, now="2026-12-07T09:00Z")
            assert repository.allocate(first) is Allocation.ALLOCATED

    on_calls("GetItem", the_other_delivery)
    note = service.issue_credit_note(order.order_id, render=render)
    assert note is not None
    assert (note.sequence, note.issued) == (1, True)
    assert list(stored(dynamodb, "credit-note#")) == [f"credit-note#{order.order_id}"]
    assert stored(dynamodb, "credit-note-counter#")[f"credit-note-counter#{this_year()}"]["last"] == {"N": "1"}
    assert len(announced(dynamodb, "CreditNoteIssued")) == 1


def test_an_order_cancelled_while_its_invoice_was_issued_is_credited_by_the_invoice_path(
    dynamodb: Any, jane: Principal
) -> None:
    order = an_order(jane)
    # The cancellation lands after the invoice was numbered, and its own event finds no issued invoice yet.
    on_calls("TransactWriteItems", lambda n, _: cancel(order) if n == 1 else None)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    assert invoice.issued
    note = InvoiceRepository(dynamodb, INVOICES, OUTBOX).get(CreditNote, order.order_id)
    assert note is not None
    assert (note.invoice_number, note.issued) == (invoice.number, True)
    assert len(announced(dynamodb, "CreditNoteIssued")) == 1


@pytest.mark.parametrize("status", [OrderStatus.CONFIRMED, OrderStatus.SHIPPED])
def test_a_credit_note_is_refused_for_an_order_that_is_not_cancelled(
    dynamodb: Any, jane: Principal, logs: LogLines, status: OrderStatus
) -> None:
    order = an_order(jane, status=status)
    service.issue_invoice(order.order_id, render=render)
    assert service.issue_credit_note(order.order_id, render=render) is None
    assert service.issue_credit_note("ghost", render=render) is None
    assert stored(dynamodb, "credit-note") == {}
    warned = logs.with_message("credit note asked for an order that is not cancelled")
    assert [line["orderId"] for line in warned] == [order.order_id, "ghost"]


def test_a_cancelled_order_without_an_issued_invoice_gets_no_credit_note(
    dynamodb: Any, jane: Principal, logs: LogLines
) -> None:
    never_invoiced = cancel(an_order(jane))
    numbered = an_order(jane)
    document = Invoice.for_order(numbered, None, year=this_year(), sequence=1, now="2026-12-07T09:00:00.000+00:00")
    assert InvoiceRepository(dynamodb, INVOICES, OUTBOX).allocate(document) is Allocation.ALLOCATED
    cancel(numbered)  # its invoice numbered, not yet issued: the invoice path credits it once it is
    for order in (never_invoiced, numbered):
        assert service.issue_credit_note(order.order_id, render=render) is None
    assert stored(dynamodb, "credit-note") == {}
    told = [(line["orderId"], line["numbered"]) for line in logs.with_message("no issued invoice to credit")]
    assert told == [(never_invoiced.order_id, False), (numbered.order_id, True)]


def test_marking_a_document_issued_twice_announces_it_once(dynamodb: Any, jane: Principal) -> None:
    order = an_order(jane)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    repository = InvoiceRepository(dynamodb, INVOICES, OUTBOX)
    event = DomainEvent(type="InvoiceIssued", source="invoicing", data={})
    assert repository.mark_issued(invoice, event) is False
    assert len(announced(dynamodb, "InvoiceIssued")) == 1


# ---------------------------------------------------------------- links


def test_the_owner_and_an_admin_get_a_short_lived_signed_link_to_each_issued_document(
    dynamodb: Any, jane: Principal
) -> None:
    order = an_order(jane)
    invoice = service.issue_invoice(order.order_id, render=render)
    assert invoice is not None
    cancel(order)
    note = service.issue_credit_note(order.order_id, render=render)
    assert note is not None
    for caller, may_read_any in [(jane, False), (ADMIN, True)]:
        links = [
            (service.invoice_link(order.order_id, caller=caller, may_read_any=may_read_any), invoice),
            (service.credit_note_link(order.order_id, caller=caller, may_read_any=may_read_any), note),
        ]
        for link, document in links:
            url = urlsplit(link.url)
            query = parse_qs(url.query)
            assert link.number == document.number
            assert url.path.endswith(f"/{document.document_key}")
            assert BUCKET in url.netloc + url.path
            assert (query["X-Amz-Expires"], query["X-Amz-Algorithm"]) == (["300"], ["AWS4-HMAC-SHA256"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", link.expires_at)  # to the second
            expires = datetime.fromisoformat(link.expires_at)
            soon = datetime.now(UTC) + timedelta(seconds=service.LINK_SECONDS)
            assert timedelta(0) <= soon - expires < timedelta(seconds=5)


def test_links_are_404_for_someone_elses_order_and_before_the_document_is_issued(
    dynamodb: Any, jane: Principal
) -> None:
    order = an_order(jane)
    link: Callable[..., object]
    for link, field in [(service.invoice_link, "invoice"), (service.credit_note_link, "creditNote")]:
        with pytest.raises(NotFound) as refused:
            link(order.order_id, caller=jane, may_read_any=False)
        assert refused.value.field == field
    numbered = Invoice.for_order(order, None, year=this_year(), sequence=1, now="2026-12-07T09:00:00.000+00:00")
    InvoiceRepository(dynamodb, INVOICES, OUTBOX).allocate(numbered)
    with pytest.raises(NotFound) as refused:
        service.invoice_link(order.order_id, caller=jane, may_read_any=False)
    assert (refused.value.field, refused.value.message) == ("invoice", f"order {order.order_id} has no invoice yet")
    service.issue_invoice(order.order_id, render=render)
    with pytest.raises(NotFound) as refused:
        service.invoice_link(order.order_id, caller=JOE, may_read_any=False)
    assert refused.value.field == "orderId"
    with pytest.raises(NotFound) as refused:
        service.credit_note_link(order.order_id, caller=jane, may_read_any=False)
    assert refused.value.message == f"order {order.order_id} has no credit note"


def test_a_document_is_read_strongly_consistent(dynamodb: Any, jane: Principal) -> None:
    """moto's reads are always current, DynamoDB's default ones eventually consistent ("DynamoDB read
    consistency"): a redelivery reading its document or counter stale would number it twice or meet a refusal."""
    order = an_order(jane)
    asked: list[Any] = []
    aws.client("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: asked.append(params.get("ConsistentRead"))
    )
    service.issue_invoice(order.order_id, render=render)
    assert asked
    assert set(asked) == {True}


@pytest.mark.parametrize("step", ["numbering", "issuing"])
def test_a_transaction_cancelled_for_another_reason_than_its_conditions_raises_and_issues_nothing(
    dynamodb: Any, s3: Any, jane: Principal, step: str
) -> None:
    """A cancellation reason that is neither a condition nor a conflict or throttle (ValidationError: an item too
    large, say; "Cancellation reason codes" of TransactWriteItems) is no answer about the number or the state:
    it raises, and the event is retried, rather than read as numbered or issued."""
    order = an_order(jane)
    if step == "issuing":
        document = Invoice.for_order(order, None, year=this_year(), sequence=1, now="2026-12-07T09:00:00.000+00:00")
        assert InvoiceRepository(dynamodb, INVOICES, OUTBOX).allocate(document) is Allocation.ALLOCATED
    DynamoDBWeather().script("TransactWriteItems", "ValidationError", table=INVOICES).attach(aws.client("dynamodb"))
    with pytest.raises(TransactionCancelled):
        service.issue_invoice(order.order_id, render=render)
    numbered = InvoiceRepository(dynamodb, INVOICES, OUTBOX).get(Invoice, order.order_id)
    assert (numbered is not None, announced(dynamodb, "InvoiceIssued")) == (step == "issuing", [])
    assert numbered is None or not numbered.issued
