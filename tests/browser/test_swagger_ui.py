"""Swagger UI on `make local`, in Chromium and offline: every route of /openapi.json renders from assets the
stack serves itself, and "Try it out" answers 200 after "Authorize" with a customer's ID token."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tools.local.server import LocalStack


@pytest.fixture
def requested(browser: Any) -> Iterator[list[str]]:
    """Every URL the browser asks for during the test."""
    urls: list[str] = []

    def record(request: Any) -> None:
        urls.append(request.url)

    browser.on("request", record)
    yield urls
    browser.remove_listener("request", record)


def operations_in_the_document(local: LocalStack) -> set[tuple[str, str]]:
    with urllib.request.urlopen(f"{local.url}/openapi.json", timeout=10) as response:  # noqa: S310 - local
        document = json.load(response)
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


def test_swagger_ui_renders_every_route_from_the_stacks_own_assets(
    open_page: Callable[[str], Any], local: LocalStack, requested: list[str]
) -> None:
    page = open_page(f"{local.url}/swagger")
    page.wait_for_selector(".opblock")

    rendered = page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(b => [
            b.querySelector('.opblock-summary-method').textContent,
            b.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
    )

    assert {(method, path) for method, path in rendered} == operations_in_the_document(local)
    assert {urlsplit(url).netloc for url in requested if url.startswith("http")} == {urlsplit(local.url).netloc}


def test_try_it_out_answers_200_after_authorize_with_a_customer_token(
    open_page: Callable[[str], Any], local: LocalStack, customer_token: str
) -> None:
    page = open_page(f"{local.url}/swagger")
    page.click("button.authorize")
    page.fill(".modal-ux input[type=text]", customer_token)
    page.click(".modal-ux .auth-btn-wrapper button.authorize")
    page.click(".modal-ux button.btn-done")

    session = page.locator(".opblock-get", has=page.locator('.opblock-summary-path[data-path="/session"]'))
    session.locator(".opblock-summary").click()
    session.locator("button.try-out__btn").click()
    session.locator("button.execute").click()

    status = session.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    body = session.locator(".live-responses-table .response .response-col_description").first
    assert '"username": "jane"' in body.inner_text()
