"""Request parameter declarations for routes (Powertools' OpenAPI params), so handlers import dropshop only."""

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

__all__ = ["Header", "Path", "Query"]
