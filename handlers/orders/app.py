"""The orders' REST routes: customers place and read their own orders; admins read any and move them on."""

from dropshop.identity import service as identity
from dropshop.identity.model import Principal
from dropshop.invoicing import service as invoicing
from dropshop.invoicing.model import CreditNoteLink, InvoiceLink
from dropshop.orders import service as orders
from dropshop.orders.model import ChangeStatus, Order, OrderPage, OrderStatus, PlaceOrder
from dropshop.platform import aws, contract, http, idempotency
from dropshop.platform.observability import correlation_paths, logger, metrics, tracer
from dropshop.platform.validation import Header, OrderId, Query

app = http.rest_resolver(enable_validation=True)
# Where the document's links find an order id in an answer.
PLACED_ORDER = "$response.body#/orderId"
FIRST_ORDER = "$response.body#/items/0/orderId"
# The authorizer verified the caller's token; every request reads OrdersTable: build its client during init.
aws.client("dynamodb")


# Each route's caller check, run before its body or parameters are read (http.authorized_first), and again by
# the route for the caller it names.
def order_placer() -> Principal:
    return identity.authorize(app.current_event, "orders:place")


def order_reader() -> Principal:
    return identity.authorize(app.current_event, "orders:read:own", "orders:read:any")


def invoice_reader() -> Principal:
    return identity.authorize(app.current_event, "invoices:read:own", "invoices:read:any")


def status_changer() -> Principal:
    return identity.authorize(app.current_event, "orders:change-status")


@app.post(
    "/orders",
    operation_id="placeOrder",
    summary="Place an order",
    description=(
        "Reserves stock for every line at once (all or nothing) and answers the order as PLACED; the order "
        "worker confirms it shortly after. Send an `Idempotency-Key` so a retried request places the order "
        "once."
    ),
    tags=["orders"],
    security=contract.SIGNED_IN,
    responses=contract.answers(
        201,
        "The order, placed (or as first placed under this Idempotency-Key).",
        401,
        403,
        409,
        body=True,
        links={
            "getPlacedOrder": contract.link("getOrder", "Read the order.", orderId=PLACED_ORDER),
            "getPlacedOrderInvoice": contract.link("getInvoice", "Its invoice, once issued.", orderId=PLACED_ORDER),
            "movePlacedOrderOn": contract.link("changeOrderStatus", "Move it on (admins).", orderId=PLACED_ORDER),
        },
    ),
)
@http.authorized_first(order_placer)
@tracer.capture_method
def place_order(
    request: PlaceOrder,
    idempotency_key: str | None = Header(None, pattern=idempotency.KEY_PATTERN),
) -> tuple[Order, int]:
    customer = order_placer()
    placed = orders.place_order(request, customer=customer, idempotency_key=idempotency_key)
    return placed.seen_by_its_customer(), 201


@app.get(
    "/orders",
    operation_id="listOrders",
    summary="List orders",
    tags=["orders"],
    description=(
        "Every page but the last holds `limit` orders; `nextCursor` is null on the last page. A cursor continues "
        "only the listing that handed it out: another customer's or status's starts over, another kind of listing's "
        "is 400. An order whose status changes while you page through `status=` is listed at most once: if it "
        "leaves that status before its page is read it is not listed; if it enters it, it is listed only when it "
        "is older than the last order already read. The listings read eventually consistent indexes: a change "
        "shows there shortly after it is made."
    ),
    security=contract.SIGNED_IN,
    responses=contract.answers(
        200,
        "A page of orders, newest first.",
        400,
        401,
        403,
        422,
        links={"getFirstOrder": contract.link("getOrder", "Read a listed order.", orderId=FIRST_ORDER)},
    ),
)
@http.authorized_first(order_reader)
@tracer.capture_method
def list_orders(
    status: OrderStatus | None = Query(None),  # noqa: B008 - Powertools reads where a parameter comes from off its default
    customer_id: str | None = Query(None, alias="customerId", min_length=1, max_length=128),
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=2048),
) -> OrderPage:
    caller = order_reader()
    may_read_any = identity.may(caller, "orders:read:any")
    page = orders.list_orders(
        caller=caller, may_read_any=may_read_any, status=status, customer_id=customer_id, limit=limit, cursor=cursor
    )
    return page if may_read_any else page.seen_by_their_customer()


@app.get(
    "/orders/<orderId>",
    operation_id="getOrder",
    summary="Get one order",
    description=("The order's lines, totals, status and history. Customers see their own orders; admins see any."),
    tags=["orders"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "The order and its history.", 401, 403, 404, 422),
)
@http.authorized_first(order_reader)
@tracer.capture_method
def get_order(order_id: OrderId) -> Order:
    caller = order_reader()
    may_read_any = identity.may(caller, "orders:read:any")
    order = orders.get_order(order_id, caller=caller, may_read_any=may_read_any)
    return order if may_read_any else order.seen_by_its_customer()


@app.get(
    "/orders/<orderId>/invoice",
    operation_id="getInvoice",
    summary="Get the invoice of an order",
    description=(
        "The invoice's number and a short-lived link to its PDF. Invoices are issued asynchronously once an "
        "order is confirmed: until then this answers 404."
    ),
    tags=["invoicing"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "A short-lived link to the invoice PDF.", 401, 403, 404, 422),
)
@http.authorized_first(invoice_reader)
@tracer.capture_method
def get_invoice(order_id: OrderId) -> InvoiceLink:
    caller = invoice_reader()
    return invoicing.invoice_link(order_id, caller=caller, may_read_any=identity.may(caller, "invoices:read:any"))


@app.get(
    "/orders/<orderId>/credit-note",
    operation_id="getCreditNote",
    summary="Get the credit note of a cancelled order",
    description=(
        "The credit note's number and a short-lived link to its PDF. A credit note is issued asynchronously "
        "when an invoiced order is cancelled: until then this answers 404."
    ),
    tags=["invoicing"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "A short-lived link to the credit note PDF.", 401, 403, 404, 422),
)
@http.authorized_first(invoice_reader)
@tracer.capture_method
def get_credit_note(order_id: OrderId) -> CreditNoteLink:
    caller = invoice_reader()
    return invoicing.credit_note_link(order_id, caller=caller, may_read_any=identity.may(caller, "invoices:read:any"))


@app.put(
    "/orders/<orderId>/status",
    operation_id="changeOrderStatus",
    summary="Move an order to its next status",
    description=(
        "Admins only. The order's life cycle decides which moves are allowed (docs/commerce.md): any other "
        "answers 409. Each change is pushed to the customer's browser over the WebSocket API."
    ),
    tags=["orders"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "The order in its new status.", 401, 403, 404, 409, body=True),
)
@http.authorized_first(status_changer)
@tracer.capture_method
def change_status(change: ChangeStatus, order_id: OrderId) -> Order:
    admin = status_changer()
    return orders.change_status(order_id, change, by=admin.user_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    idempotency.track(context)
    return app.resolve(event, context)
