"""TokenVerifier against keys of our own, served as a JWKS file: every reason a token is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.identity.tokens import JWKS_CACHE_SECONDS, LEEWAY_SECONDS, SEND_THE_ID_TOKEN, TokenVerifier
from dropshop.platform.errors import Unauthenticated
from tests.support.jwks_server import JwksHost, serve_jwks
from tests.support.properties import budget

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
CLIENT_ID = "web-client"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return _key()


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, object]:
    return {
        **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())),
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
    }


@pytest.fixture
def jwks(signing_key: rsa.RSAPrivateKey) -> Iterator[JwksHost]:
    with serve_jwks() as host:
        host.keys = [public_jwk(signing_key, "key-1")]
        yield host


@pytest.fixture
def verifier(jwks: JwksHost) -> TokenVerifier:
    return TokenVerifier(jwks_url=jwks.url, issuer=ISSUER, client_id=CLIENT_ID)


def id_token(key: rsa.RSAPrivateKey, kid: str = "key-1", **overrides: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "0b5e8f0e-user",
        "cognito:username": "jane",
        "cognito:groups": ["customer"],
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


def refusal(verifier: TokenVerifier, token: str | None) -> str:
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(token)
    assert refused.value.field == "Authorization"
    return refused.value.message


def test_valid_id_token_yields_the_principal_with_groups(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    principal = verifier.verify(id_token(signing_key, **{"cognito:groups": ["customer", "admin"]}))
    assert principal.user_id == "0b5e8f0e-user"
    assert principal.username == "jane"
    assert principal.groups == ["customer", "admin"]


def test_missing_token_is_refused(verifier: TokenVerifier) -> None:
    assert refusal(verifier, None) == "missing bearer token"


def test_malformed_token_is_refused(verifier: TokenVerifier) -> None:
    assert "invalid" in refusal(verifier, "not-a-jwt")


def test_expired_token_is_refused(verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    expired = int(time.time()) - LEEWAY_SECONDS - 5
    assert refusal(verifier, id_token(signing_key, exp=expired)) == "token expired"


def test_token_expired_within_the_leeway_is_accepted(verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    just_expired = int(time.time()) - LEEWAY_SECONDS // 2
    assert verifier.verify(id_token(signing_key, exp=just_expired)).username == "jane"


def test_token_from_another_pool_is_refused(verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    token = id_token(signing_key, iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")
    assert refusal(verifier, token) == "token issued by another user pool"


def test_token_for_another_client_is_refused(verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    assert refusal(verifier, id_token(signing_key, aud="other-client")) == "token issued for another app client"


def test_access_token_is_refused_where_an_id_token_is_required(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    assert refusal(verifier, id_token(signing_key, token_use="access")) == SEND_THE_ID_TOKEN


def test_a_cognito_access_token_is_told_to_send_the_id_token(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    # Cognito's access tokens carry `client_id` and no `aud`: PyJWT refuses them for the missing claim first.
    access = id_token(
        signing_key, token_use="access", aud=None, client_id=CLIENT_ID, scope="aws.cognito.signin.user.admin"
    )
    assert refusal(verifier, access) == SEND_THE_ID_TOKEN


def test_a_token_without_aud_that_does_not_claim_access_says_what_is_missing(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    assert refusal(verifier, id_token(signing_key, aud=None)) == 'token is invalid: Token is missing the "aud" claim'


def test_a_token_without_groups_or_username_is_a_caller_in_no_group_named_by_their_sub(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    principal = verifier.verify(id_token(signing_key, **{"cognito:groups": None, "cognito:username": None}))
    assert (principal.user_id, principal.username, principal.groups) == ("0b5e8f0e-user", "0b5e8f0e-user", [])


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "sub", "token_use"])
def test_a_token_missing_a_claim_cognito_always_sets_is_refused_naming_it(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey, claim: str
) -> None:
    assert (
        refusal(verifier, id_token(signing_key, **{claim: None}))
        == f'token is invalid: Token is missing the "{claim}" claim'
    )


@budget(20)
@given(use=st.text(max_size=12).filter(lambda use: use not in {"id", "access"}))
@example(use="refresh")
def test_a_token_for_any_other_use_is_refused(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey, use: str
) -> None:
    assert refusal(verifier, id_token(signing_key, token_use=use)) == "an ID token is required"


def test_token_signed_by_another_key_under_a_known_kid_is_refused(verifier: TokenVerifier) -> None:
    assert refusal(verifier, id_token(_key(), kid="key-1")) == "token signature is invalid"


def test_token_naming_an_unknown_kid_is_refused(verifier: TokenVerifier) -> None:
    assert refusal(verifier, id_token(_key(), kid="forged")) == "token signed by an unknown key"


def test_unsigned_token_is_refused(verifier: TokenVerifier) -> None:
    unsigned = jwt.encode({"sub": "x", "token_use": "id"}, key=None, algorithm="none", headers={"kid": "key-1"})
    assert "invalid" in refusal(verifier, unsigned)


def test_keys_are_fetched_once_and_refetched_once_when_a_new_kid_appears(
    jwks: JwksHost, signing_key: rsa.RSAPrivateKey
) -> None:
    verifier = TokenVerifier(jwks_url=jwks.url, issuer=ISSUER, client_id=CLIENT_ID, refetch_cooldown=0)
    for _ in range(3):
        assert verifier.verify(id_token(signing_key)).username == "jane"
    assert jwks.fetches == 1

    rotated = _key()
    jwks.keys = [*jwks.keys, public_jwk(rotated, "key-2")]
    assert verifier.verify(id_token(rotated, kid="key-2")).username == "jane"
    assert verifier.verify(id_token(signing_key)).username == "jane"
    assert jwks.fetches == 2


def test_unknown_kids_do_not_refetch_the_keys_during_the_cooldown(jwks: JwksHost, verifier: TokenVerifier) -> None:
    forged = _key()
    for _ in range(5):
        refusal(verifier, id_token(forged, kid="made-up"))
    assert jwks.fetches == 1


def test_the_keys_are_kept_for_six_hours_then_fetched_again(
    jwks: JwksHost, verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyJWT's key cache reads time.monotonic(): its clock is moved on, the tokens' own (exp, iat) is not.
    later = SimpleNamespace(hours=0.0)
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + later.hours * 3600)
    for module in ("jwt.api_jwk", "jwt.jwk_set_cache", "jwt.jwks_client"):
        monkeypatch.setattr(f"{module}.time", clock)
    assert verifier.verify(id_token(signing_key)).username == "jane"
    later.hours = JWKS_CACHE_SECONDS / 3600 - 0.1
    assert verifier.verify(id_token(signing_key)).username == "jane"
    assert jwks.fetches == 1
    later.hours = JWKS_CACHE_SECONDS / 3600 + 0.1
    assert verifier.verify(id_token(signing_key)).username == "jane"
    assert jwks.fetches == 2


def test_a_jwks_endpoint_that_does_not_answer_within_five_seconds_is_our_fault_not_the_callers(
    jwks: JwksHost, verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    # Waited for no longer than 5 s (a 5xx, well inside API Gateway's 29 s), never taken for a bad token (401).
    jwks.delay = 5.5
    with pytest.raises(jwt.PyJWKClientConnectionError):
        verifier.verify(id_token(signing_key))
