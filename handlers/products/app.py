"""The catalog's REST routes: anyone may browse; admins add, replace and remove products."""

from dropshop.catalog import service as catalog
from dropshop.catalog.model import Product, ProductDraft, ProductPage
from dropshop.identity import service as identity
from dropshop.platform import aws, http
from dropshop.platform.observability import correlation_paths, logger, metrics, tracer
from dropshop.platform.validation import Path, Query

app = http.rest_resolver(enable_validation=True)
aws.client("dynamodb")  # every request reads ProductsTable: build the client during init


@app.get("/products")
@tracer.capture_method
def list_products(
    category: str | None = Query(None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$"),
    limit: int = Query(25, ge=1, le=100),
    cursor: str | None = Query(None, max_length=2048),
) -> ProductPage:
    return catalog.list_products(category=category, limit=limit, cursor=cursor)


@app.get("/products/<product_id>")
@tracer.capture_method
def get_product(product_id: str = Path(max_length=64)) -> Product:
    return catalog.get_product(product_id)


@app.post("/products")
@tracer.capture_method
def add_product(draft: ProductDraft) -> tuple[Product, int]:
    identity.authorize(app.current_event, "catalog:write")
    return catalog.add_product(draft), 201


@app.put("/products/<product_id>")
@tracer.capture_method
def replace_product(draft: ProductDraft, product_id: str = Path(max_length=64)) -> Product:
    identity.authorize(app.current_event, "catalog:write")
    return catalog.replace_product(product_id, draft)


@app.delete("/products/<product_id>")
@tracer.capture_method
def remove_product(product_id: str = Path(max_length=64)) -> tuple[dict[str, str], int]:
    identity.authorize(app.current_event, "catalog:write")
    catalog.remove_product(product_id)
    return {"productId": product_id, "status": "removed"}, 200


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
