"""`make mutate`: mutmut over the domain contexts against the fast suites, and each context's score.

mutmut names a mutant after its module's path from the directory it runs in, so it runs in a staging copy
(`.mutate/`) where the layer's package `dropshop` sits at the top, as on Lambda's path. mutmut 3.8 needs a newer
click than SAM CLI allows, so it lives in `.venv-mutmut`, which sees the project's venv through a .pth file.

    python -m tools.mutate                                   # every context (an hour or more on two busy cores)
    python -m tools.mutate --only dropshop/platform/json_depth.py --tests tests/unit/test_json_body.py
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import sysconfig
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / ".mutate"
VENV = ROOT / ".venv-mutmut"
REQUIREMENTS = ROOT / "requirements-mutmut.txt"
# The domain contexts, platform's body guard and streaming (issue #24).
CONTEXTS = [
    "dropshop/accounts/",
    "dropshop/catalog/",
    "dropshop/orders/",
    "dropshop/invoicing/",
    "dropshop/ingestion/",
    "dropshop/identity/",
    "dropshop/platform/json_body.py",
    "dropshop/platform/json_depth.py",
    "dropshop/platform/streaming.py",
]
FAST_SUITES = ["tests/unit"]
COPIED = ["tests", "handlers", "tools", "events", "template.yaml", "samconfig.toml"]
RESULT = re.compile(r"^\s*(?P<module>dropshop\.[\w.]+?)\.x\w*__mutmut_\d+: (?P<status>[\w ]+)$")


def mutmut() -> Path:
    """mutmut's own venv, made once: the project's packages through a .pth, mutmut and its click on top."""
    binary = VENV / "bin" / "mutmut"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603 - our interpreter
        purelib = Path(sysconfig.get_paths()["purelib"])
        site = next((VENV / "lib").glob("python3*/site-packages"))
        (site / "project-venv.pth").write_text(f"{purelib}\n")
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
        subprocess.run(pip, check=True)  # noqa: S603 - pip from the venv just made
    return binary


def stage(sources: list[str], tests: list[str]) -> None:
    """A copy of the project with `dropshop` at the top and mutmut's configuration for `sources`.

    mutmut runs pytest several times in one process (stats, clean run, then a fork per mutant, each mutant against
    only the tests that called its function). Without `-s` the Logger's handler keeps the first run's capture
    stream, closed by the second run, and `tests/conftest.py`'s `logs` fixture fails flushing it."""
    shutil.rmtree(STAGE, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "layers" / "shared" / "dropshop", STAGE / "dropshop", ignore=ignore)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, STAGE / name, ignore=ignore)
        else:
            shutil.copy2(source, STAGE / name)
    project = (ROOT / "pyproject.toml").read_text().replace('pythonpath = ["layers/shared", "."]', 'pythonpath = ["."]')
    configuration = f"""
[tool.mutmut]
source_paths = {sources!r}
also_copy = {["dropshop/", *[f"{n}/" if (ROOT / n).is_dir() else n for n in COPIED]]!r}
pytest_add_cli_args_test_selection = {tests!r}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-s"]
"""
    (STAGE / "pyproject.toml").write_text(project + configuration)


def scores(results: str) -> dict[str, Counter[str]]:
    """Mutants by module and status ("killed", "survived", "timeout", ...), from `mutmut results --all true`."""
    found: dict[str, Counter[str]] = {}
    for line in results.splitlines():
        if match := RESULT.match(line):
            found.setdefault(match["module"], Counter())[match["status"].strip()] += 1
    return found


def run(sources: list[str], tests: list[str], workers: int | None = None) -> dict[str, Counter[str]]:
    binary = mutmut()
    stage(sources, tests)
    children = [] if workers is None else ["--max-children", str(workers)]
    subprocess.run([str(binary), "run", *children], cwd=STAGE, check=True)  # noqa: S603 - mutmut from its venv
    listed = subprocess.run(  # noqa: S603 - mutmut from its venv
        [str(binary), "results", "--all", "true"], cwd=STAGE, check=True, capture_output=True, text=True
    )
    return scores(listed.stdout)


def context_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[1] == "platform" else ".".join(parts[:2])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=CONTEXTS, help="source paths (from dropshop/) to mutate")
    parser.add_argument("--tests", nargs="+", default=FAST_SUITES, help="the tests that must kill the mutants")
    parser.add_argument("--max-children", type=int, help="mutants tested at once (mutmut's default: one per core)")
    args = parser.parse_args(argv)
    by_context: dict[str, Counter[str]] = {}
    for module, counts in run(args.only, args.tests, args.max_children).items():
        by_context.setdefault(context_of(module), Counter()).update(counts)
    print(f"{'context':34} {'killed':>7} {'total':>6} {'score':>6}")
    for context, counts in sorted(by_context.items()):
        total = sum(counts.values())
        print(f"{context:34} {counts['killed']:7} {total:6} {counts['killed'] / total:6.0%}")
    print(f"survivors: (cd {STAGE.relative_to(ROOT)} && ../{VENV.relative_to(ROOT)}/bin/mutmut results)")


if __name__ == "__main__":
    main(sys.argv[1:])
