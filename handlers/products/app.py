"""The catalog's REST routes: anyone may browse; admins add, replace and remove products."""

from dropshop.catalog import service as catalog
from dropshop.catalog.model import Product, ProductDraft, ProductPage
from dropshop.identity import service as identity
from dropshop.identity.model import Principal
from dropshop.platform import aws, contract, http
from dropshop.platform.observability import correlation_paths, logger, metrics, tracer
from dropshop.platform.validation import ProductId, Query

app = http.rest_resolver(enable_validation=True)
# Where the document's links find a product id in an answer.
FIRST_PRODUCT = "$response.body#/items/0/productId"
ADDED_PRODUCT = "$response.body#/productId"


def catalog_writer() -> Principal:
    return identity.authorize(app.current_event, "catalog:write")


def one_of(product_id: str) -> dict[str, object]:
    return {"lines": [{"productId": product_id, "quantity": 1}]}


aws.client("dynamodb")  # every request reads ProductsTable: build the client during init


@app.get(
    "/products",
    operation_id="listProducts",
    summary="Browse the catalog",
    description=(
        "Public. Products with price, VAT category and stock, optionally of one `category`, one page of "
        "`limit` at a time (`nextCursor` continues)."
    ),
    tags=["catalog"],
    responses=contract.answers(
        200,
        "A page of products.",
        400,
        422,
        links={
            "getFirstProduct": contract.link("getProduct", "Read a listed product.", productId=FIRST_PRODUCT),
            "orderFirstProduct": contract.link(
                "placeOrder", "Order one of a listed product.", request_body=one_of(FIRST_PRODUCT)
            ),
        },
    ),
)
@tracer.capture_method
def list_products(
    category: str | None = Query(None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$"),
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=2048),
) -> ProductPage:
    return catalog.list_products(category=category, limit=limit, cursor=cursor)


@app.get(
    "/products/<productId>",
    operation_id="getProduct",
    summary="Get one product",
    description=("Public. One product of the catalog by its id."),
    tags=["catalog"],
    responses=contract.answers(200, "The product.", 404, 422),
)
@tracer.capture_method
def get_product(product_id: ProductId) -> Product:
    return catalog.get_product(product_id)


@app.post(
    "/products",
    operation_id="addProduct",
    summary="Add a product to the catalog",
    description=(
        "Admins only. Creates the product with its price (minor units and ISO 4217 currency), VAT category and stock."
    ),
    tags=["catalog"],
    security=contract.SIGNED_IN,
    responses=contract.answers(
        201,
        "The product, added.",
        401,
        403,
        409,
        body=True,
        links={
            "getAddedProduct": contract.link("getProduct", "Read the product.", productId=ADDED_PRODUCT),
            "replaceAddedProduct": contract.link("replaceProduct", "Replace the product.", productId=ADDED_PRODUCT),
            "removeAddedProduct": contract.link("removeProduct", "Remove the product.", productId=ADDED_PRODUCT),
            "orderAddedProduct": contract.link(
                "placeOrder", "Order one of the product.", request_body=one_of(ADDED_PRODUCT)
            ),
        },
    ),
)
@http.authorized_first(catalog_writer)
@tracer.capture_method
def add_product(draft: ProductDraft) -> tuple[Product, int]:
    return catalog.add_product(draft), 201


@app.put(
    "/products/<productId>",
    operation_id="replaceProduct",
    summary="Replace a product",
    description=("Admins only. Replaces every field of an existing product (price, stock, VAT category, description)."),
    tags=["catalog"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "The product, replaced.", 401, 403, 404, body=True),
)
@http.authorized_first(catalog_writer)
@tracer.capture_method
def replace_product(draft: ProductDraft, product_id: ProductId) -> Product:
    return catalog.replace_product(product_id, draft)


@app.delete(
    "/products/<productId>",
    operation_id="removeProduct",
    summary="Remove a product from the catalog",
    description=("Admins only. Orders already placed keep their lines."),
    tags=["catalog"],
    security=contract.SIGNED_IN,
    responses=contract.answers(200, "The product is removed.", 401, 403, 404, 422),
)
@http.authorized_first(catalog_writer)
@tracer.capture_method
def remove_product(product_id: ProductId) -> tuple[dict[str, str], int]:
    catalog.remove_product(product_id)
    return {"productId": product_id, "status": "removed"}, 200


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
