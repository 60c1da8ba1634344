"""Local CORS: any port of localhost/127.0.0.1 by default, `ORIGINS=` narrows, the rest is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import Client
from werkzeug.wrappers import Response

from tools.local.cors import LOCAL_ORIGINS, LocalCors, parse_origins

FRONTEND_ORIGIN = "http://localhost:5173"  # what the template's FrontendOrigin makes the gateway send


# The local gateway's answer: the template's one origin, as API Gateway sends it deployed.
gateway = Response("{}", headers={"Access-Control-Allow-Origin": FRONTEND_ORIGIN})


def allowed(origins: tuple[str, ...], origin: str | None) -> list[str]:
    headers = {"Origin": origin} if origin is not None else {}
    response = Client(LocalCors(gateway, origins)).get("/products", headers=headers)
    return response.headers.getlist("Access-Control-Allow-Origin")


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:3000", "http://localhost:8080", "http://127.0.0.1:5173", "http://localhost:5173"],
)
def test_any_local_port_is_admitted_by_default(origin: str) -> None:
    assert allowed(LOCAL_ORIGINS, origin) == [origin]


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost.evil.example:3000",
        "http://evil.example",
        "https://localhost:3000",  # another scheme is another origin
        "http://localhost:3000.evil.example",
        "http://localhost:3000/",
        "http://localhost:",
        "null",
    ],
)
def test_other_origins_get_no_allow_origin_header(origin: str) -> None:
    assert allowed(LOCAL_ORIGINS, origin) == []


def test_origins_narrow_the_default() -> None:
    narrowed = parse_origins("http://localhost:5173, http://127.0.0.1:*")
    assert allowed(narrowed, "http://localhost:5173") == ["http://localhost:5173"]
    assert allowed(narrowed, "http://127.0.0.1:4000") == ["http://127.0.0.1:4000"]
    assert allowed(narrowed, "http://localhost:3000") == []


def test_a_request_without_origin_keeps_the_gateways_answer() -> None:
    assert allowed(LOCAL_ORIGINS, None) == [FRONTEND_ORIGIN]


@given(port=st.integers(min_value=1, max_value=65535), host=st.sampled_from(["localhost", "127.0.0.1"]))
def test_every_port_of_both_hosts(port: int, host: str) -> None:
    origin = f"http://{host}:{port}"
    assert allowed(LOCAL_ORIGINS, origin) == [origin]
