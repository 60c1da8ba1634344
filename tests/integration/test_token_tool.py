"""`make token`: signs a user in and fills a sample event with a token the session function accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest

from tests.support import cognito
from tests.support.events import EVENTS
from tools import token
from tools.local.lambda_context import LambdaContext


def test_filled_event_carries_a_token_the_session_function_accepts(
    tmp_path: Path,
    load_handler: Any,
    context: LambdaContext,
    user_pool: cognito.UserPool,
    customer: cognito.SignedInUser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample = tmp_path / "get-session.json"
    shutil.copy(EVENTS / "session" / "get-session.json", sample)

    exit_code = token.main(
        [
            "--username",
            "jane",
            "--password",
            cognito.PASSWORD,
            "--client-id",
            user_pool.client_id,
            "--event",
            str(sample),
        ]
    )

    assert exit_code == 0
    filled = Path(capsys.readouterr().out.strip())
    assert filled == tmp_path / "get-session.local.json"
    event = json.loads(filled.read_text())
    assert "{{" not in json.dumps(event)
    session_app: ModuleType = load_handler("session")
    response = session_app.lambda_handler(event, context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["userId"] == customer.sub


def test_access_prints_the_users_access_token_and_refuses_to_fill_an_event_with_it(
    user_pool: cognito.UserPool, admin: cognito.SignedInUser, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in = ["--username", admin.username, "--password", cognito.PASSWORD, "--client-id", user_pool.client_id]

    assert token.main([*sign_in, "--access"]) == 0

    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert (claims["token_use"], claims["client_id"], claims["username"]) == ("access", user_pool.client_id, "ada")
    with pytest.raises(SystemExit):
        token.main([*sign_in, "--access", "--event", str(EVENTS / "session" / "get-session.json")])
