"""Use cases about the caller: who they are and what they may do."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from dropshop.identity.claims import principal_from_claims
from dropshop.identity.directory import UserDirectory
from dropshop.identity.model import (
    PERMISSIONS_BY_GROUP,
    SELF_SIGN_UP_GROUP,
    Contact,
    Principal,
    Profile,
    access_token_scopes,
    permissions_for,
)
from dropshop.platform import aws
from dropshop.platform.errors import Forbidden, Unauthenticated
from dropshop.platform.observability import MetricUnit, logger, metrics
from dropshop.platform.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from dropshop.identity.tokens import TokenVerifier
    from dropshop.platform.cognito_triggers import PreTokenGenerationV2TriggerEvent

# The post-confirmation trigger runs when a user confirms, so a user it failed to place is a new one; the repair runs
# every 15 minutes, so a day gives it ~96 chances. An older user in no group was put there by an operator (access
# revoked) and stays there. (Measured on UserCreateDate: Cognito records no confirmation date.)
REPAIR_WINDOW = timedelta(hours=24)


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
    """Who the caller is and what they may do as the directory says now, not as their token said: a user
    deleted or disabled since sign-in gets 401, a demoted one their current groups' permissions."""
    user = (users or directory()).current(principal.username)
    # A deleted user's name may have been taken again since: the token's `sub` must still be this user's.
    if user is None or not user.enabled or user.user_id != principal.user_id:
        metrics.add_metric(name="SessionsRefused", unit=MetricUnit.Count, value=1)
        raise Unauthenticated("this user no longer exists or is disabled", field="Authorization")
    metrics.add_metric(name="SessionsServed", unit=MetricUnit.Count, value=1)
    return Profile(
        user_id=principal.user_id,
        username=user.username,
        email=user.attributes.get("email"),
        name=user.attributes.get("name"),
        groups=user.groups,
        permissions=permissions_for(user.groups),
    )


def contact(user_id: str, users: UserDirectory | None = None) -> Contact | None:
    """The user's e-mail address and name, or None when the user is gone or has no e-mail address."""
    attributes = (users or directory()).by_id(user_id)
    email = attributes.get("email")
    if not email:
        return None
    verified = attributes.get("email_verified") == "true"
    return Contact(user_id=user_id, email=email, name=attributes.get("name"), email_verified=verified)


def welcome(trigger: str, *, user_pool_id: str, username: str, users: UserDirectory | None = None) -> bool:
    """A user who confirmed their own sign-up joins the customer group; other confirmations (a forgotten
    password) change nothing. The pool comes from the trigger's event: the pool names this function, so the
    function cannot name the pool."""
    if trigger != "PostConfirmation_ConfirmSignUp":
        return False
    (users or UserDirectory(aws.client("cognito-idp"), user_pool_id)).add_to_group(username, SELF_SIGN_UP_GROUP)
    metrics.add_metric(name="CustomersSignedUp", unit=MetricUnit.Count, value=1)
    return True


def repair_groups(as_of: datetime | str, users: UserDirectory | None = None) -> list[str]:
    """Every new confirmed user in no group joins the customer group: the sign-up trigger that should have added
    them failed (Cognito gives it 5 seconds, and a user whose confirmation succeeded stays confirmed). Users
    created before REPAIR_WINDOW ended at `as_of` (a schedule's ISO 8601 `time`, or a datetime), and disabled
    users, are left alone: an operator may have taken them out of every group to revoke their access. Returns
    who was added; running again adds nobody."""
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    pool = users or directory()
    grouped = set().union(*(pool.members(group) for group in PERMISSIONS_BY_GROUP))
    stranded = sorted(pool.confirmed_since(as_of - REPAIR_WINDOW) - grouped)
    for username in stranded:
        pool.add_to_group(username, SELF_SIGN_UP_GROUP)
        logger.warning("confirmed user in no group joined customer", extra={"username": username})
    metrics.add_metric(name="CustomersRepaired", unit=MetricUnit.Count, value=len(stranded))
    return stranded


def scope_tokens(event: PreTokenGenerationV2TriggerEvent) -> PreTokenGenerationV2TriggerEvent:
    """Cognito's pre token generation trigger (V2_0): the access token gets the OAuth scopes of the user's
    groups as they are now (`groupsToOverride`), and loses every other grantable scope.

    A pure function of the event, on purpose: Cognito waits 5 s for the trigger and refuses the sign-in or
    refresh when it fails, so a trigger that called AWS would turn an AWS fault into nobody signing in."""
    # Read defensively: an event without its groups grants nothing, and one without a response gets one, so an
    # odd event scopes the token down instead of failing every sign-in.
    group_configuration = (event.raw_event.get("request") or {}).get("groupConfiguration") or {}
    scopes = access_token_scopes(list(group_configuration.get("groupsToOverride") or []))
    if not isinstance(event.raw_event.get("response"), dict):
        event.raw_event["response"] = {}
    details = event.response.claims_scope_override_details
    # Cognito's V2_0 answer replaces the groups with groupOverrideDetails, and an empty or null one suppresses
    # them (developer guide, pre token generation): the request's groups, copied, keep `cognito:groups`.
    if group_configuration:
        details.group_configuration = dict(group_configuration)
    access_token = details.access_token_generation
    access_token.scopes_to_add = scopes.granted
    access_token.scopes_to_suppress = scopes.withheld
    return event
