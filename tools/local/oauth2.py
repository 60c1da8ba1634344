"""The user pool domain's POST /oauth2/token for the client-credentials grant, which moto lacks.

moto keeps the app clients (secrets, allowed flows and scopes) and the resource servers; this endpoint
checks a request against them as Cognito does and signs the access token with the key moto signs its
own tokens with, so the gateway verifies both against moto's JWKS. Claims are those of Cognito's
machine-to-machine access tokens: `sub` and `client_id` are the client, `scope` the granted scopes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from moto.utilities.utils import load_resource
from werkzeug.wrappers import Request, Response

from tools.local.token_lifetime import token_seconds


def signing_key() -> Any:
    """moto's private key (the one behind `/<pool>/.well-known/jwks.json`, kid `dummy`)."""
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(load_resource("cognitoidp/resources/jwks-private.json")))


class TokenEndpoint:
    def __init__(self, cognito: Any, user_pool_id: str, region: str) -> None:
        self._cognito = cognito
        self._pool = user_pool_id
        self._issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self._key = signing_key()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        status, body = self.token(request) if request.method == "POST" else (405, {"error": "invalid_request"})
        response = Response(json.dumps(body), status=status, content_type="application/json")
        return response(environ, start_response)

    def token(self, request: Request) -> tuple[int, dict[str, Any]]:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        client_id, secret = _client_credentials(request)
        client = self._client(client_id)
        if client is None or not secret or not hmac.compare_digest(client.get("ClientSecret", ""), secret):
            return 400, {"error": "invalid_client"}
        if "client_credentials" not in client.get("AllowedOAuthFlows", []):
            return 400, {"error": "unauthorized_client"}
        allowed = client.get("AllowedOAuthScopes", [])
        requested = form.get("scope", "").split() or allowed
        if not requested or not set(requested) <= set(allowed):
            return 400, {"error": "invalid_scope"}
        now, lifetime = int(time.time()), token_seconds(client, "access")
        claims = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(requested),
            "auth_time": now,
            "iss": self._issuer,
            "exp": now + lifetime,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "dummy"})
        return 200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}

    def _client(self, client_id: str) -> dict[str, Any] | None:
        if not client_id:
            return None
        try:
            described = self._cognito.describe_user_pool_client(UserPoolId=self._pool, ClientId=client_id)
        except self._cognito.exceptions.ResourceNotFoundException:
            return None
        client: dict[str, Any] = described["UserPoolClient"]
        return client


def _client_credentials(request: Request) -> tuple[str, str]:
    """HTTP Basic (what Cognito expects) or, as Cognito also takes, client_id/client_secret in the form."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return request.form.get("client_id", ""), request.form.get("client_secret", "")
