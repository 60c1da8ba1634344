"""Verification of Cognito ID tokens: RS256 signature against the pool's JWKS, issuer, audience, use, expiry."""

from __future__ import annotations

import jwt

from dropshop.identity.model import Principal
from dropshop.platform.errors import Unauthenticated

LEEWAY_SECONDS = 10
# Keys rotate rarely; PyJWKClient refetches by itself when a token names an unknown `kid`, at most once
# per cooldown, so tokens with made-up kids cannot turn into a flood of JWKS requests.
JWKS_CACHE_SECONDS = 6 * 3600
SEND_THE_ID_TOKEN = "this is an access token: the REST API takes the ID token (IdToken) of the sign-in"  # noqa: S105
JWKS_REFETCH_COOLDOWN_SECONDS = 30.0


class TokenVerifier:
    def __init__(
        self, *, jwks_url: str, issuer: str, client_id: str, refetch_cooldown: float = JWKS_REFETCH_COOLDOWN_SECONDS
    ) -> None:
        self._jwks = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=5, cooldown_duration=refetch_cooldown
        )
        self._issuer = issuer
        self._client_id = client_id

    def verify(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("missing bearer token", field="Authorization")
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired", field="Authorization") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token issued by another user pool", field="Authorization") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token issued for another app client", field="Authorization") from None
        except jwt.PyJWKClientConnectionError:
            # Our JWKS endpoint being unreachable is our fault, not the caller's: let it surface as a 5xx.
            raise
        except jwt.PyJWKClientError:
            raise Unauthenticated("token signed by an unknown key", field="Authorization") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature is invalid", field="Authorization") from None
        except jwt.MissingRequiredClaimError as error:
            # A Cognito access token has no `aud` (its client is `client_id`): say which token to send instead.
            if error.claim == "aud" and _unverified_use(token) == "access":
                raise Unauthenticated(SEND_THE_ID_TOKEN, field="Authorization") from None
            raise Unauthenticated(f"token is invalid: {error}", field="Authorization") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"token is invalid: {error}", field="Authorization") from None
        if claims["token_use"] == "access":  # noqa: S105 - a claim value, not a secret
            raise Unauthenticated(SEND_THE_ID_TOKEN, field="Authorization")
        if claims["token_use"] != "id":  # noqa: S105 - a claim value, not a secret
            raise Unauthenticated("an ID token is required", field="Authorization")
        groups = claims.get("cognito:groups") or []
        return Principal(
            user_id=str(claims["sub"]),
            username=str(claims.get("cognito:username") or claims["sub"]),
            groups=[str(g) for g in groups],
        )


def _unverified_use(token: str) -> object:
    """The `token_use` a refused token claims: only to word the refusal, never to admit anything. Asked only once
    the verified decode has read the token and refused its audience, so the token always decodes."""
    return jwt.decode(token, options={"verify_signature": False}).get("token_use")
