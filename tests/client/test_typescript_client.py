"""clients/typescript: the TypeScript types generated from docs/openapi.json are the committed ones, and the
typed client compiles with `tsc` (and refuses a call the document does not allow)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
NPX = shutil.which("npx") or "npx"


def run(*command: str, cwd: Path = CLIENT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


@pytest.fixture(scope="module", autouse=True)
def node_modules() -> None:
    """A fresh clone has none: `npm ci` installs the locked versions (never skipped: CI has node)."""
    if not (CLIENT / "node_modules" / ".package-lock.json").exists():
        installed = run(shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund")
        assert installed.returncode == 0, installed.stderr[-3000:]


def test_the_committed_types_are_what_the_document_generates(tmp_path: Path) -> None:
    # Stale? `make client` regenerates them.
    generated = run(NPX, "openapi-typescript", "../../docs/openapi.json", "--output", str(tmp_path / "schema.d.ts"))
    assert generated.returncode == 0, generated.stderr[-3000:]
    assert (tmp_path / "schema.d.ts").read_text() == (CLIENT / "src" / "schema.d.ts").read_text()


def test_the_client_compiles() -> None:
    compiled = run(NPX, "tsc", "--noEmit")
    assert compiled.returncode == 0, compiled.stdout[-3000:]


CALLS = """
import {{ createClient }} from "{index}";
const api = createClient("http://127.0.0.1:3000");
export async function call(): Promise<string> {{
  const {{ data }} = await api.GET("/products/{{productId}}", {{ params: {{ path: {{ {name}: "p-1" }} }} }});
  return data ? data.{field} : "";
}}
"""


@pytest.mark.parametrize(
    ("name", "field", "compiles"),
    [("productId", "productId", True), ("product_id", "productId", False), ("productId", "nonsense", False)],
)
def test_the_types_hold_a_call_to_the_document(tmp_path: Path, name: str, field: str, compiles: bool) -> None:
    source = tmp_path / "call.ts"
    source.write_text(CALLS.format(index=CLIENT / "src" / "index.js", name=name, field=field))
    options = ["--strict", "--target", "ES2022", "--module", "ES2022", "--moduleResolution", "bundler"]
    compiled = run(NPX, "tsc", "--noEmit", *options, "--lib", "ES2022,DOM", str(source))
    assert (compiled.returncode == 0) == compiles, compiled.stdout[-3000:]
