"""Schemathesis against the local stack's /openapi.json, as each kind of caller: valid and invalid requests
(examples, coverage, fuzzing) and stateful sequences through the document's links (add a product → read it →
order it → read the order). Seeded, so a failure replays with the same command.

Zero failures means: no 5xx, no status the document does not list, every body matches its schema and content
type, and every request the schema forbids is refused with a 4xx.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import sign_in
from tools.local.server import LocalStack

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "negative_data_rejection",
]
SEED = 20261201
# Per operation and phase: three roles stay near a minute each on two busy cores. Raise it locally to dig.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: the admin's fuzzing replaces and removes products the other journeys rely on."""
    state = tmp_path_factory.mktemp("fuzzed-stack")
    stack = LocalStack(port=0, log=lambda line: None, state_dir=state).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("role", ["anonymous", "customer", "admin"])
def test_the_api_keeps_its_contract_under_fuzzing(fuzzed: LocalStack, role: str, tmp_path: Path) -> None:
    # The document is read here, without schemathesis' 10 s limit on loading it, which busy cores can pass.
    with urllib.request.urlopen(f"{fuzzed.url}/openapi.json", timeout=120) as served:  # noqa: S310 - loopback
        (tmp_path / "openapi.json").write_bytes(served.read())
    command = [
        str(SCHEMATHESIS),
        "run",
        "openapi.json",
        "--url",
        fuzzed.url,
        "--request-timeout",
        "60",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",  # two cores, shared
        "--generation-database",
        "none",  # reproducible from the seed alone
        "--no-color",
    ]
    if role != "anonymous":
        command += ["--header", f"Authorization: Bearer {sign_in(fuzzed, role)}"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    replay = " ".join(
        part if not part.startswith("Authorization") else "'Authorization: Bearer $TOKEN'" for part in command
    )
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-2000:]}\nreplay: {replay}"
    ran = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert ran is not None, run.stdout[-3000:]
    assert int(ran[1]) == int(ran[2]) > 100, run.stdout[-3000:]  # it did fuzz, and every case passed
