"""The one error body as a model, for the OpenAPI document (platform.errors builds the bodies themselves)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every non-2xx answer: from a function, from Powertools' validation, or from API Gateway itself."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "invalid_request",
                    "message": "Input should be a valid integer",
                    "field": "lines[0].quantity",
                    "details": [{"field": "lines[0].quantity", "message": "Input should be a valid integer"}],
                }
            ]
        }
    )

    error: str = Field(description="A stable code: invalid_request, malformed_request, unauthenticated, ...")
    message: str = Field(description="What went wrong, for people.")
    field: str | None = Field(description="Where: a body path (lines[0].quantity), a parameter or a header.")
    details: list[ErrorDetail] | None = Field(default=None, description="Every validation problem (422 only).")
