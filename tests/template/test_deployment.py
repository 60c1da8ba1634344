"""What SAM does with the template: versions per layer content, lint, validate, build, the built layer."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.template.conftest import FUNCTIONS, ROOT, TEMPLATE_PATH, Template, of_type, packaged, translate

BIN = Path(sys.executable).parent
PROVIDED_BY_THE_RUNTIME = ("boto3", "botocore", "s3transfer")


def _version_ids(template: Template, layer_uri: str) -> dict[str, str]:
    translated = translate(packaged(template, layer_uri=layer_uri))
    versions = of_type(translated, "AWS::Lambda::Version")
    return {fn: next(v for v in versions if v.startswith(f"{fn}Version")) for fn in FUNCTIONS}


def test_every_function_publishes_a_new_version_when_only_the_layer_changes(template: Template) -> None:
    before = _version_ids(template, "s3://artifacts/layer-a.zip")
    assert before == _version_ids(template, "s3://artifacts/layer-a.zip"), "same inputs must give the same versions"
    after = _version_ids(template, "s3://artifacts/layer-b.zip")
    unchanged = [fn for fn in FUNCTIONS if before[fn] == after[fn]]
    assert not unchanged, f"a layer-only change would not publish new versions (no canary) for {unchanged}"


def _run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own tools, fixed arguments
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env
    )


@pytest.mark.slow
def test_cfn_lint_finds_nothing_with_the_serverless_rules() -> None:
    result = _run(
        str(BIN / "cfn-lint"),
        str(TEMPLATE_PATH),
        str(ROOT / "account" / "template.yaml"),
        "-a",
        "cfn_lint_serverless.rules",
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_sam_validate_lint_passes() -> None:
    result = _run(str(BIN / "sam"), "validate", "--lint", "--template-file", str(TEMPLATE_PATH))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build")
    # The layer's Makefile runs python3.13: the venv's must come first on PATH, as `make build` arranges.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ARCH": "x86_64"}
    result = _run(
        str(BIN / "sam"),
        "build",
        "--build-dir",
        str(build_dir),
        "--cache-dir",
        str(ROOT / ".aws-sam" / "cache-x86_64"),  # as `make build-local`: SAM's cache ignores the architecture
        "--parameter-overrides",
        "Architecture=x86_64",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir


@pytest.mark.slow
def test_sam_build_builds_every_function_and_the_layer(built: Path) -> None:
    for name in FUNCTIONS:
        assert (built / name / "app.py").is_file(), f"{name} was not built"
    assert (built / "SharedLayer" / "python" / "dropshop" / "__init__.py").is_file()


@pytest.mark.slow
def test_the_built_layer_leaves_the_boto3_family_to_the_runtime(built: Path) -> None:
    shipped = {p.name for p in (built / "SharedLayer" / "python").iterdir()}
    assert not shipped & set(PROVIDED_BY_THE_RUNTIME), (
        f"the layer would shadow the runtime's {shipped & set(PROVIDED_BY_THE_RUNTIME)}"
    )
    assert {"aws_lambda_powertools", "jwt", "pydantic"} <= shipped


@pytest.mark.slow
def test_the_built_layer_ships_unchecked_hash_bytecode_for_the_runtime_python(built: Path) -> None:
    sources = list((built / "SharedLayer" / "python" / "dropshop").rglob("*.py"))
    compiled = list((built / "SharedLayer" / "python").rglob("*.cpython-313.pyc"))
    assert len(compiled) >= len(sources) > 0
    for pyc in compiled:
        header = pyc.read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER, f"{pyc} was compiled by another Python"
        # PEP 552 flags: 0b01 = hash-based and unchecked, valid whatever timestamps the zip carries.
        assert int.from_bytes(header[4:8], "little") == 0b01, f"{pyc} is not unchecked-hash bytecode"


@pytest.mark.slow
def test_sam_build_of_the_prod_configuration_cross_builds_arm64(tmp_path: Path) -> None:
    """What `make deploy ENV=prod` builds: prod parameters, arm64 wheels in the layer and the invoice function."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ARCH": "arm64"}
    result = _run(
        str(BIN / "sam"),
        "build",
        "--config-env",
        "prod",
        "--build-dir",
        str(tmp_path),
        "--cache-dir",
        str(ROOT / ".aws-sam" / "cache-arm64"),  # as `make build`
        "--parameter-overrides",
        "Stage=prod Architecture=arm64",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in FUNCTIONS:
        assert (tmp_path / name / "app.py").is_file(), f"{name} was not built"
    native = [
        *(tmp_path / "SharedLayer" / "python").rglob("*.so"),
        *(tmp_path / "InvoiceFunction").rglob("*.so"),
    ]
    assert native, "pydantic-core, cryptography and Pillow ship compiled code"
    foreign = [p.name for p in native if "x86_64" in p.name or "amd64" in p.name]
    assert not foreign, f"x86 binaries in an arm64 build: {foreign[:5]}"
