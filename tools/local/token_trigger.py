"""Cognito's pre token generation trigger, which moto does not run, emulated in front of moto's server.

A user pool whose LambdaConfig names a V2_0 (or V3_0) PreTokenGenerationConfig - tools.local.stack gives the
pool the template's - has every answer that issues a user's tokens (InitiateAuth, AdminInitiateAuth,
RespondToAuthChallenge, AdminRespondToAuthChallenge; refreshes included) rewritten as Cognito would write it:
the trigger's V2 event is built from the user's groups and attributes as they are now, the layer's own trigger
code answers it (`dropshop.identity.service.scope_tokens`, what PreTokenGenerationFunction runs), and the
access token is signed again with moto's key, its scopes added and suppressed as answered, every other claim
unchanged. Only the access token's scopes are applied: they are all this stack's trigger changes. A trigger
that raises fails the sign-in, as on Cognito.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

TOKEN_ISSUING = {
    f"AWSCognitoIdentityProviderService.{operation}"
    for operation in ("InitiateAuth", "AdminInitiateAuth", "RespondToAuthChallenge", "AdminRespondToAuthChallenge")
}
# V1_0 events customize ID tokens only; V2_0 and V3_0 (V2_0 plus client credentials) the access token too.
ACCESS_TOKEN_VERSIONS = {"V2_0", "V3_0"}

Trigger = Callable[[dict[str, Any]], dict[str, Any]]


class PreTokenGeneration:
    """WSGI middleware around moto's app."""

    def __init__(self, app: Callable[..., Iterable[bytes]], trigger: Trigger | None = None) -> None:
        self._app = app
        self._trigger = trigger or run_layer_trigger

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") not in TOKEN_ISSUING:
            return self._app(environ, start_response)
        request = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(request)
        answered: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            answered.update(status=status, headers=headers)
            return chunks.append

        result = self._app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            getattr(result, "close", lambda: None)()
        status, body = answered["status"], b"".join(chunks)
        if status.startswith("200 "):
            status, body = self._customized(environ["HTTP_X_AMZ_TARGET"], json.loads(request or b"{}"), body)
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _customized(self, target: str, request: dict[str, Any], body: bytes) -> tuple[str, bytes]:
        import jwt  # at the first sign-in, not while moto's server starts (the stack waits for it)

        answer = json.loads(body)
        issued = answer.get("AuthenticationResult") or {}
        if "AccessToken" not in issued:
            return "200 OK", body  # a challenge, not tokens: the trigger runs when tokens are issued
        # moto's own token, issued a moment ago in this process: nothing to verify.
        claims = jwt.decode(issued["AccessToken"], options={"verify_signature": False})
        pool = _user_pool(claims["iss"])
        config = (pool.extended_config.get("LambdaConfig") or {}).get("PreTokenGenerationConfig") if pool else None
        if not config or config.get("LambdaVersion") not in ACCESS_TOKEN_VERSIONS:
            return "200 OK", body
        event = _trigger_event(target, request, pool, claims)
        try:
            response = self._trigger(event)
        except Exception as failure:  # any failure of the trigger fails the sign-in
            refusal = {"__type": "UserLambdaValidationException", "message": f"PreTokenGeneration failed: {failure}"}
            return "400 Bad Request", json.dumps(refusal).encode()
        access = (response.get("claimsAndScopeOverrideDetails") or {}).get("accessTokenGeneration") or {}
        scopes = claims.get("scope", "").split()
        scopes += [scope for scope in access.get("scopesToAdd") or [] if scope not in scopes]
        suppressed = set(access.get("scopesToSuppress") or [])
        token = jwt.encode(
            claims | {"scope": " ".join(s for s in scopes if s not in suppressed)},
            _signing_key(),
            algorithm="RS256",
            headers={"kid": "dummy"},
        )
        # moto answers GetUser, GlobalSignOut... for the tokens it knows: it knows this one as it knew the first.
        pool.access_tokens[token] = pool.access_tokens.pop(issued["AccessToken"], (claims["client_id"], None))
        issued["AccessToken"] = token
        return "200 OK", json.dumps(answer).encode()


def run_layer_trigger(event: dict[str, Any]) -> dict[str, Any]:
    """What PreTokenGenerationFunction answers, from the same code (imported at the first sign-in it scopes)."""
    from dropshop.identity.service import scope_tokens
    from dropshop.platform.cognito_triggers import PreTokenGenerationV2TriggerEvent

    response: dict[str, Any] = scope_tokens(PreTokenGenerationV2TriggerEvent(event)).raw_event["response"]
    return response


def _trigger_event(target: str, request: dict[str, Any], pool: Any, claims: dict[str, Any]) -> dict[str, Any]:
    """The V2 event Cognito sends the trigger for this sign-in, refresh or answered challenge."""
    user = pool.users.get(claims["username"])
    attributes = {"sub": claims["sub"]} | {a["Name"]: a["Value"] for a in (user.attributes if user else [])}
    if user is not None:
        attributes["cognito:user_status"] = user.status
    if request.get("AuthFlow") in {"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"}:
        source = "TokenGeneration_RefreshTokens"
    elif target.endswith("RespondToAuthChallenge") and request.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        source = "TokenGeneration_NewPasswordChallenge"
    else:
        source = "TokenGeneration_Authentication"
    return {
        "version": "2",
        "triggerSource": source,
        "region": pool.region,
        "userPoolId": pool.id,
        "userName": claims["username"],
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": claims["client_id"]},
        "request": {
            "userAttributes": attributes,
            # The user's groups now, not those of the token being refreshed: a demoted admin loses the scope.
            "groupConfiguration": {
                "groupsToOverride": sorted(g.group_name for g in user.groups) if user else [],
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "scopes": claims.get("scope", "").split(),
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def _user_pool(issuer: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    pool_id = issuer.rsplit("/", 1)[-1]
    region = pool_id.split("_", 1)[0]
    for account in list(cognitoidp_backends.keys()):
        if pool := cognitoidp_backends[account][region].user_pools.get(pool_id):
            return pool
    return None


@cache
def _signing_key() -> Any:
    from tools.local.oauth2 import signing_key

    return signing_key()
