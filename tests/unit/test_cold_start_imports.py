"""What a cold start imports: each handler loads what its path needs, and the rest when a request needs it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from dropshop.platform import idempotency, settings
from tools.local.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
TOKEN_VERIFIER = ("jwt", "dropshop.identity.tokens")
IDEMPOTENCY = ("aws_lambda_powertools.utilities.idempotency",)
PARSER_MODELS = ("aws_lambda_powertools.utilities.parser",)
BATCH_FUNCTIONS = ["writer", "error_handler", "order_worker", "invoice", "notification", "status_push", "transformer"]


def loaded_at_init(handler: str, watched: tuple[str, ...]) -> list[str]:
    """The `watched` modules a fresh interpreter has loaded once it imported handlers/<handler>/app.py."""
    script = textwrap.dedent(
        f"""
        import json, sys
        import app
        print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT / 'handlers' / handler}:{ROOT / 'layers' / 'shared'}",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    ran = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    assert ran.returncode == 0, ran.stderr
    loaded: list[str] = json.loads(ran.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("handler", ["orders", "products", "files_api", "telemetry"])
def test_rest_handlers_load_neither_the_token_verifier_nor_idempotency_at_init(handler: str) -> None:
    assert loaded_at_init(handler, TOKEN_VERIFIER + IDEMPOTENCY) == []


@pytest.mark.parametrize("handler", ["session", "websocket"])
def test_functions_that_verify_tokens_themselves_build_the_verifier_during_init(handler: str) -> None:
    assert loaded_at_init(handler, TOKEN_VERIFIER) == list(TOKEN_VERIFIER)


def test_the_token_trigger_every_sign_in_waits_for_loads_no_verifier_no_pydantic_no_boto3() -> None:
    assert loaded_at_init("pre_token_generation", (*TOKEN_VERIFIER, "pydantic", "boto3")) == []


@pytest.mark.parametrize("handler", BATCH_FUNCTIONS)
def test_batch_handlers_load_powertools_batch_without_its_parser_models(handler: str) -> None:
    # Powertools' batch types import every parser model (pydantic schemas for SQS, DynamoDB, Kinesis, Kafka)
    # when pydantic is loaded before them: the handlers import the batch utility before any domain model.
    assert loaded_at_init(handler, PARSER_MODELS) == []


def test_a_keyed_request_loads_idempotency_and_frees_its_key_by_the_invocations_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    settings.settings.cache_clear()
    idempotency._store.cache_clear()
    context = LambdaContext()
    with mock_aws():
        boto3.client("dynamodb", region_name="eu-west-1").create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        idempotency.track(context)
        runs: list[dict[str, object]] = []

        def operation(payload: dict[str, object]) -> dict[str, object]:
            runs.append(payload)
            return {"done": len(runs)}

        first = idempotency.once(operation, caller="u-1", key="k-1", payload={"n": 1})
        again = idempotency.once(operation, caller="u-1", key="k-1", payload={"n": 1})
    settings.settings.cache_clear()
    idempotency._store.cache_clear()
    assert (first, again, runs) == ({"done": 1}, {"done": 1}, [{"n": 1}])
    assert idempotency._config().lambda_context is context
