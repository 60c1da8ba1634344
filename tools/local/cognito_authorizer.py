"""A REST API's Cognito user pool authorizer, as lenient as API Gateway's: the token's signature against the
pool's JWKS, its issuer (the pool), expiry and use (an ID token), and no audience check - API Gateway accepts
the ID token of any app client of the pool. The functions' own check (dropshop.identity.claims: `aud` must be
the web client) is what refuses the others, so the local stack must not refuse them first."""

from __future__ import annotations

from typing import Any

import jwt

from dropshop.identity.tokens import JWKS_CACHE_SECONDS, LEEWAY_SECONDS
from dropshop.platform.errors import Unauthenticated
from dropshop.platform.http import bearer_token

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "token_use"]


class CognitoAuthorizer:
    def __init__(self, *, jwks_url: str, issuer: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=5)
        self._issuer = issuer

    def claims(self, headers: dict[str, str]) -> dict[str, Any]:
        """The verified token's claims; Unauthenticated (API Gateway's 401) for anything else."""
        token = bearer_token(headers)
        if not token:
            raise Unauthenticated("missing bearer token", field="Authorization")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"verify_aud": False, "require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWKClientConnectionError:
            raise  # the local JWKS unreachable is the stack's fault: a 5xx, not the caller's 401
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired", field="Authorization") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token issued by another user pool", field="Authorization") from None
        except (jwt.PyJWKClientError, jwt.PyJWTError) as error:
            raise Unauthenticated(f"token is invalid: {error}", field="Authorization") from None
        if claims["token_use"] != "id":
            raise Unauthenticated("an ID token is required", field="Authorization")
        return claims
