"""Request parameter declarations for routes (Powertools' OpenAPI params), so handlers import dropshop only."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

__all__ = ["FileId", "Header", "OrderId", "Path", "ProductId", "Query"]

# The REST API's path parameters, with the OpenAPI parameter's title and description.
ProductId = Annotated[
    str,
    Path(alias="productId", max_length=64, title="Product ID", description="The product's `productId`."),
]
OrderId = Annotated[
    str,
    Path(alias="orderId", max_length=64, title="Order ID", description="The order's `orderId`."),
]
FileId = Annotated[str, Path(alias="fileId", title="File ID", description="The file's `fileId` in the registry.")]
