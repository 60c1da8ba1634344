"""Use cases about the caller: who they are and what they may do."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from dropshop.identity.claims import principal_from_claims
from dropshop.identity.directory import UserDirectory
from dropshop.identity.model import Contact, Principal, Profile, permissions_for
from dropshop.platform import aws
from dropshop.platform.errors import Forbidden, Unauthenticated
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from dropshop.identity.tokens import TokenVerifier


@cache
def verifier() -> TokenVerifier:
    # PyJWT and cryptography (~45 ms) load with the first verifier: anonymous paths never pay for them.
    from dropshop.identity.tokens import TokenVerifier

    s = settings()
    return TokenVerifier(jwks_url=s.jwks_url, issuer=s.token_issuer, client_id=s.user_pool_client_id)


@cache
def directory() -> UserDirectory:
    return UserDirectory(aws.client("cognito-idp"), settings().user_pool_id)


def authenticate(token: str | None) -> Principal:
    """The verified caller, or Unauthenticated (401) naming why the token was refused."""
    try:
        return verifier().verify(token)
    except Unauthenticated:
        metrics.add_metric(name="TokensRefused", unit=MetricUnit.Count, value=1)
        raise


def caller(request: APIGatewayProxyEvent) -> Principal:
    """The caller of a REST request: the claims API Gateway's Cognito authorizer verified, or, where no authorizer
    stands (`sam local start-api` runs none), the bearer token verified here. 401 with neither."""
    if claims := request.request_context.authorizer.claims:
        return principal_from_claims(claims)
    # Deployed functions behind the authorizer never take this path, so never load the token verifier.
    from dropshop.platform.http import bearer_token

    return authenticate(bearer_token(request.headers))


def authorize(request: APIGatewayProxyEvent, *permissions: str) -> Principal:
    """The REST request's caller if their groups grant any of `permissions`; 401 unauthenticated, 403 without."""
    principal = caller(request)
    if not any(may(principal, permission) for permission in permissions):
        raise Forbidden(f"this needs the {' or '.join(permissions)} permission", field="Authorization")
    return principal


def may(principal: Principal, permission: str) -> bool:
    return permission in permissions_for(principal.groups)


def identify(token: str | None) -> Principal | None:
    """The caller if a valid token came along, else None: for routes that also serve anonymous users."""
    if not token:
        return None
    try:
        return authenticate(token)
    except Unauthenticated as refused:
        logger.info("treating caller as anonymous", extra={"reason": refused.message})
        return None


def profile(principal: Principal, users: UserDirectory | None = None) -> Profile:
    """What the frontend needs to know about the caller: who they are and what they may do."""
    metrics.add_metric(name="SessionsServed", unit=MetricUnit.Count, value=1)
    attributes = (users or directory()).attributes(principal.username)
    claims = principal.claims
    return Profile(
        user_id=principal.user_id,
        username=principal.username,
        email=attributes.get("email") or _str_or_none(claims.get("email")),
        name=attributes.get("name") or _str_or_none(claims.get("name")),
        groups=sorted(principal.groups),
        permissions=permissions_for(principal.groups),
    )


def contact(user_id: str, users: UserDirectory | None = None) -> Contact | None:
    """The user's e-mail address and name, or None when the user is gone or has no e-mail address."""
    attributes = (users or directory()).by_id(user_id)
    email = attributes.get("email")
    if not email:
        return None
    verified = attributes.get("email_verified") == "true"
    return Contact(user_id=user_id, email=email, name=attributes.get("name"), email_verified=verified)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
