"""What the REST API promises in its OpenAPI document: each route's answers, the error body, who may call.

Routes declare `responses=answers(...)`, `security=SIGNED_IN` (protected routes only) and `tags=[context]`;
tools/openapi.py merges every function's document into docs/openapi.json.
"""

from __future__ import annotations

from typing import Any

# The Cognito user pool's ID token, as `Authorization: Bearer <jwt>` (the security scheme tools/openapi.py adds).
SECURITY_SCHEME = "CognitoIdToken"
SIGNED_IN: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
# The one error body (dropshop.platform.error_body.ErrorBody), by reference: a function that never validates
# does not import pydantic at cold start for its documentation; tools/openapi.py adds the schema.
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}

REFUSALS = {
    400: "Malformed request: a body that is not UTF-8 JSON, nests too deep or repeats a key, or a bad cursor.",
    401: "No valid Cognito ID token; `message` says why.",
    403: "Signed in, but without the permission this needs.",
    404: "No such resource.",
    409: "Conflicts with the current state: out of stock, a status the life cycle forbids, a key in use.",
    413: "The body is larger than 256 KiB.",
    415: "The body is not application/json.",
    422: "Invalid request: `details` names every field that failed validation.",
    503: "AWS is refusing for now (DynamoDB throttling, or conflicting writes that outlasted the retries): nothing "
    "changed; send the same request again after `Retry-After` seconds.",
}
# What a route that reads a body may always answer, whatever its own rules.
BODY_REFUSALS = (400, 413, 415, 422)
# What every route may answer: the REST functions' throttled AWS calls (platform/http.py).
ALWAYS_REFUSALS = (503,)
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}


def answers(
    success: int, description: str, *refusals: int, body: bool = False, links: dict[str, Any] | None = None
) -> dict[int, Any]:
    """The route's success (its return type's schema, and where a client can go next) and each refusal it can
    give, in the error body."""
    codes = sorted({*refusals, *(BODY_REFUSALS if body else ()), *ALWAYS_REFUSALS})
    error = {"application/json": {"schema": ERROR_BODY}}
    succeeded: dict[str, Any] = {"description": description} | ({"links": links} if links else {})
    return {success: succeeded} | {
        code: {"description": REFUSALS[code], "content": error} | ({"headers": RETRY_AFTER} if code == 503 else {})
        for code in codes
    }


def link(operation_id: str, description: str, *, request_body: Any = None, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link: the operation a client calls next, fed from this answer (`$response.body#/...`)."""
    found: dict[str, Any] = {"operationId": operation_id, "description": description}
    if parameters:
        found["parameters"] = parameters
    if request_body is not None:
        found["requestBody"] = request_body
    return found
