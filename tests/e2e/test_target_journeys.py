"""The journeys `make e2e` proves on a deployed stack, and `make test` on the local one: each creates its own
products, orders, files and accounts under the run's prefix and observes them only through what a deployed
stack offers its callers (the APIs, the WebSocket URL, the data bucket and the accounts table its outputs name).
tests/e2e/test_deployed_mode.py runs this module against an unseeded local stack seen as a deployed one."""

from __future__ import annotations

import io
import re
import urllib.request
from collections.abc import Callable
from typing import Any

import pypdf
from websockets.sync.client import connect

from tests.e2e.conftest import Client, eventually, next_push
from tools.e2e_target import DeployedStack


def pdf_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a presigned link of the stack's
        assert response.headers["Content-Type"] == "application/pdf"
        return str(pypdf.PdfReader(io.BytesIO(response.read())).pages[0].extract_text())


def place(api: Client, token: str, product: dict[str, Any], quantity: int) -> dict[str, Any]:
    status, order = api.request(
        "POST", "/orders", token=token, body={"lines": [{"productId": product["productId"], "quantity": quantity}]}
    )
    assert status == 201, order
    return order


def shown(api: Client, token: str, order_id: str, field: str, until: Callable[[Any], bool] = bool) -> Any:
    """What GET /orders/{id} shows under `field` once it is there (and `until` holds of it)."""

    def check() -> Any:
        _, current = api.request("GET", f"/orders/{order_id}", token=token)
        value = current.get(field)
        return value if value and until(value) else None

    return eventually(check, timeout=60)


def test_the_runs_products_are_listed_in_their_own_category(
    api: Client, target: DeployedStack, products: dict[str, dict[str, Any]]
) -> None:
    status, page = api.request("GET", f"/products?category={target.prefix.rstrip('-')}")
    assert status == 200
    assert {item["productId"] for item in page["items"]} == {p["productId"] for p in products.values()}
    mug = products["Enamel mug"]
    assert api.request("GET", f"/products/{mug['productId']}")[1] == mug


def test_an_order_is_confirmed_invoiced_and_each_status_pushed_to_the_customers_socket(
    api: Client, target: DeployedStack, customer_token: str, admin_token: str, products: dict[str, dict[str, Any]]
) -> None:
    mug = products["Enamel mug"]
    with connect(f"{target.websocket_url}?token={customer_token}", open_timeout=10) as socket:
        order = place(api, customer_token, mug, 3)
        assert order["total"] == {"amount": 3 * mug["price"]["amount"], "currency": "EUR"}
        order_id = order["orderId"]

        number = shown(api, customer_token, order_id, "invoice")["number"]
        assert re.fullmatch(r"DS-\d{4}-\d{6}", number)
        status, link = api.request("GET", f"/orders/{order_id}/invoice", token=customer_token)
        assert (status, link["number"]) == (200, number)
        text = pdf_text(link["url"])
        assert f"Invoice {number}" in text
        assert f"{mug['name']} 3 " in text
        assert "Total 37.50 EUR" in text

        # The worker's confirmation was pushed; the admin ships and the customer's socket hears it.
        assert next_push(socket, order_id)["status"] == "CONFIRMED"
        # The history is kept by the events' queue, the push by the outbox's stream: either may come first.
        statuses = shown(api, customer_token, order_id, "history", until=lambda history: len(history) >= 2)
        assert [change["status"] for change in statuses][:2] == ["PLACED", "CONFIRMED"]
        status, _ = api.request("PUT", f"/orders/{order_id}/status", token=admin_token, body={"status": "SHIPPED"})
        assert status == 200
        pushed = next_push(socket, order_id)
        assert (pushed["type"], pushed["status"], pushed["previous"]) == ("orderStatus", "SHIPPED", "CONFIRMED")
    assert api.request("GET", f"/products/{mug['productId']}")[1]["stock"] == mug["stock"] - 3


def test_a_cancelled_invoiced_order_gets_a_credit_note(
    api: Client, customer_token: str, admin_token: str, products: dict[str, dict[str, Any]]
) -> None:
    lamp = products["Desk lamp"]
    order_id = place(api, customer_token, lamp, 1)["orderId"]
    invoice = shown(api, customer_token, order_id, "invoice")
    status, _ = api.request("PUT", f"/orders/{order_id}/status", token=admin_token, body={"status": "CANCELLED"})
    assert status == 200
    number = shown(api, customer_token, order_id, "creditNote")["number"]
    assert re.fullmatch(r"CN-\d{4}-\d{6}", number)

    status, link = api.request("GET", f"/orders/{order_id}/credit-note", token=customer_token)
    assert (status, link["number"]) == (200, number)
    text = pdf_text(link["url"])
    assert f"Credit note {number}" in text
    assert f"Credits invoice {invoice['number']} of {invoice['issuedAt'][:10]} in full." in text
    assert "Total -49.99 EUR" in text


def test_an_uploaded_file_goes_through_the_pipeline_to_the_accounts_table(
    api: Client, target: DeployedStack, admin_token: str
) -> None:
    good, bad = target.account_id("upload-1"), target.account_id("upload-2")
    records = "\n".join(
        [
            f'{{"id": "{good}", "name": "One", "email": "One@Example.com", "status": "active",'
            ' "balanceCents": 1, "updatedAt": "2026-11-24T12:00:00Z"}',
            f'{{"id": "{bad}", "name": "", "email": "bad", "status": "active", "balanceCents": 2}}',
        ]
    ).encode()
    key = target.upload("accounts.ndjson", records)

    def processed() -> Any:
        status, page = api.request("GET", "/files?limit=100", token=admin_token)
        assert status == 200, page
        return [f for f in page["items"] if f["key"] == key and f["status"] == "PROCESSED"]

    (listed,) = eventually(processed, timeout=60)
    assert listed["ingestion"] == {"recordsRead": 2, "accepted": 1, "rejected": 1}
    assert api.request("GET", f"/files/{listed['fileId']}", token=admin_token)[1]["key"] == key
    (stored,) = eventually(lambda: target.stored_account(good), timeout=60)
    assert stored["email"]["S"] == "one@example.com"
    assert target.stored_account(bad) == []  # rejected: the pipeline's error log has it, never the accounts


def test_post_writer_with_a_batch_token_reaches_the_writer(
    api: Client, target: DeployedStack, machine_token: str
) -> None:
    account = target.account_id("writer")
    record = {"id": account, "name": "Ada", "email": "ADA@example.com", "status": "active", "balanceCents": 100}
    record["updatedAt"] = "2026-11-24T12:00:00Z"
    status, sent = api.request("POST", "/writer", token=machine_token, body=record)
    assert status == 200, sent
    assert "MessageId" in sent.get("xml", str(sent))  # SQS's answer, passed through (its format: test_journeys)
    (stored,) = eventually(lambda: target.stored_account(account), timeout=60)
    assert stored["email"]["S"] == "ada@example.com"
