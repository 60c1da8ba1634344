"""`make e2e`'s deployed mode, proven without AWS: the journeys that run on a deployed stack run here against a
fresh, unseeded local stack reached only through a deployed stack's outputs (conftest's
DROPSHOP_E2E_LOCAL_AS_DEPLOYED), in a pytest of their own so that this session's local stack is not theirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import LOCAL_AS_DEPLOYED_VARIABLE
from tools.e2e_target import DeployedStack

ROOT = Path(__file__).parents[2]


def test_the_journeys_pass_in_deployed_mode_without_the_local_stacks_state(deployed: DeployedStack | None) -> None:
    if deployed is not None:
        pytest.skip("this run is the deployed mode itself")
    environment = os.environ | {LOCAL_AS_DEPLOYED_VARIABLE: "1"}
    environment.pop("DROPSHOP_E2E_STACK", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests/e2e/test_target_journeys.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout, run.stdout[-2000:]
    assert "skipped" not in run.stdout, run.stdout[-2000:]  # every journey ran, none fell back to "local only"
