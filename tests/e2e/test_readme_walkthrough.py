"""The README's local walkthrough, run as written against a local stack of its own: it stays true.

Its one `bash` block (the one that sets API from PORT) runs with `bash -euo pipefail` and `curl -f`, so any
step that fails, any 4xx/5xx, fails the test; the stack's ports are not the defaults, so a hard-coded port fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tools.local.server import LocalStack

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    (block,) = [block for block in blocks if block.startswith("API=http://127.0.0.1:${PORT:-3000}")]
    return block


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # A stack of its own: the walkthrough cancels the demo order other e2e tests read.
    local = LocalStack(port=0, log=lambda _: None, state_dir=tmp_path_factory.mktemp("walkthrough-stack")).start()
    try:
        yield local
    finally:
        local.stop()


def test_the_readme_walkthrough_runs_as_written(stack: LocalStack, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    env = {
        **os.environ,
        "PORT": str(stack.port),
        "LOCAL_STATE_DIR": str(stack.state_dir),  # where `make token`/`upload`/`download` find this stack
        "LOCAL_DOWNLOADS": str(downloads),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    script = "set -euo pipefail\n" + walkthrough()
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", script],  # noqa: S607 - bash, as the README's reader runs it
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    pdfs = sorted(downloads.glob("*.pdf"))
    assert [re.sub(r"-[^-]*-\d{4}-\d+\.pdf$", "", path.name) for path in pdfs] == ["credit-note", "invoice"]
    for path in pdfs:
        assert PdfReader(path).pages, path  # a real PDF, not an empty or error body
