"""The caller as API Gateway's Cognito authorizer hands them over: the verified ID token's claims.

On a REST route behind the authorizer, API Gateway has already checked the token's signature, issuer, audience
and expiry before the function runs, and puts its claims in `requestContext.authorizer.claims`, which clients
cannot write. Every value arrives as a string: `cognito:groups` is the group names joined by commas ("admin",
"admin,customer"), `exp` and `iat` are dates ("Tue Apr 04 18:39:39 UTC 2023"). Reading them costs nothing at
cold start, where verifying the token again would load PyJWT and cryptography and fetch the pool's keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from dropshop.identity.model import Principal
from dropshop.platform.errors import Unauthenticated
from dropshop.platform.settings import settings

GROUPS_CLAIM = "cognito:groups"
GROUPS_SEPARATOR = ","


def principal_from_claims(claims: Mapping[str, object]) -> Principal:
    """The caller the authorizer verified; Unauthenticated if the claims are not an ID token's (as TokenVerifier)."""
    if claims.get("token_use") != "id":
        raise Unauthenticated("an ID token is required", field="Authorization")
    # The authorizer accepts any app client of the pool: only the web client's users are callers here.
    if claims.get("aud") != settings().user_pool_client_id:
        raise Unauthenticated("token was issued to another app client", field="Authorization")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("token names no subject", field="Authorization")
    username = claims.get("cognito:username")
    return Principal(
        user_id=subject,
        username=username if isinstance(username, str) and username else subject,
        groups=groups_from_claim(claims.get(GROUPS_CLAIM)),
    )


def groups_from_claim(value: object) -> list[str]:
    """The group names of API Gateway's comma-joined `cognito:groups`; anything else names no group (grants
    nothing), so a format this code does not know fails closed."""
    if not isinstance(value, str):
        return []
    return [group for group in value.split(GROUPS_SEPARATOR) if group]
