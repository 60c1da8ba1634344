"""`make token` and `make refusals` fail in one line that says what to do, never with a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tools import refusals, token
from tools.local.__main__ import running
from tools.local.moto_server import free_port


def test_no_local_stack_state_says_to_start_make_local(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        running("token", tmp_path)
    assert str(stopped.value) == (
        "make token: the local stack is not running: start it with `make local` in another terminal"
    )


def test_a_stopped_local_stack_says_so_and_where_it_looked(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there any more
    (tmp_path / "stack.json").write_text(json.dumps({"aws": endpoint}))
    with pytest.raises(SystemExit) as stopped:
        running("token", tmp_path)
    assert "the local stack is not running" in str(stopped.value)
    assert f"(nothing answers at {endpoint})" in str(stopped.value)


@pytest.fixture
def no_aws_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 keeps the first session's settings otherwise


@pytest.mark.usefixtures("no_aws_settings")
def test_refusals_without_a_region_says_how_to_set_one_or_use_the_local_stack() -> None:
    with pytest.raises(SystemExit) as stopped:
        refusals.main(["--stack", "dropshop-dev"])
    assert str(stopped.value) == (
        "make refusals: no AWS region: set AWS_DEFAULT_REGION (or a profile's), "
        "or `make refusals LOCAL=1` for the stack `make local` runs"
    )


@pytest.mark.usefixtures("no_aws_settings")
def test_refusals_without_credentials_says_how_to_get_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to find on a laptop
    with pytest.raises(SystemExit) as stopped:
        refusals.main(["--stack", "dropshop-dev"])
    assert str(stopped.value).startswith("make refusals: no AWS credentials: set AWS_PROFILE")


@pytest.mark.usefixtures("no_aws_settings")
def test_a_deployed_token_without_a_region_says_so() -> None:
    with pytest.raises(SystemExit) as stopped:
        token.main(["--username", "jane", "--password", "x", "--stack", "dropshop-dev"])
    assert str(stopped.value).startswith("make token: no AWS region: set AWS_DEFAULT_REGION")
