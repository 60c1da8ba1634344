"""An HTTP API's JWT authorizer, checked as API Gateway documents it (not with the functions' own verifier):

signature against the issuer's JWKS, `iss`, `exp`/`nbf`/`iat`, then `aud` - or `client_id` when the token
has no `aud` (Cognito access tokens) - in the audience list, then, if the route names scopes, at least one
of them in the token's `scope` (or `scp`). A token failing any check but the last gets 401, one lacking the
scope 403; the bodies are the ones API Gateway sends (HTTP APIs have no gateway responses to reshape them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from dropshop.platform.http import bearer_token


class Refused(Exception):
    """API Gateway's answer to a request its authorizer refused."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message}


def _unauthorized() -> Refused:
    return Refused(401, "Unauthorized")


@dataclass(frozen=True)
class JwtRule:
    """One route's authorizer: who may issue its tokens, for which clients, with which scopes."""

    issuer: str
    audience: frozenset[str]
    scopes: frozenset[str]  # empty: any valid token of the issuer will do

    @classmethod
    def from_template(cls, authorizer: dict[str, Any], route_scopes: list[str] | None = None) -> JwtRule:
        """From an `AWS::Serverless::HttpApi` authorizer (resolved); a route's own scopes replace the API's."""
        configuration = authorizer["JwtConfiguration"]
        scopes = route_scopes if route_scopes is not None else authorizer.get("AuthorizationScopes", [])
        return cls(configuration["issuer"], frozenset(configuration["audience"]), frozenset(scopes))


class JwtAuthorizer:
    def __init__(self, jwks_url: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, timeout=5)

    def check(self, rule: JwtRule, headers: dict[str, str]) -> dict[str, Any]:
        """The token's claims when the rule lets it through; Refused (401 or 403) otherwise."""
        token = bearer_token(headers)
        if not token:
            raise _unauthorized()
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=rule.issuer,
                options={"verify_aud": False, "require": ["exp", "iat", "iss"]},
            )
        except jwt.PyJWKClientConnectionError:
            raise
        except (jwt.PyJWTError, jwt.PyJWKClientError):
            raise _unauthorized() from None
        audience = claims["aud"] if "aud" in claims else claims.get("client_id")
        audiences = set(audience) if isinstance(audience, list) else {audience}
        if not audiences & rule.audience:
            raise _unauthorized()
        if rule.scopes and not granted_scopes(claims) & rule.scopes:
            raise Refused(403, "Forbidden")
        return claims


def granted_scopes(claims: dict[str, Any]) -> set[str]:
    scope = claims.get("scope", claims.get("scp", ""))
    return set(scope.split()) if isinstance(scope, str) else {str(s) for s in scope}
