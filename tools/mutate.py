"""`make mutate`: mutmut over the domain contexts against the fast suites, and each context's score.

mutmut names a mutant after its module's path from the directory it runs in, so each context runs in a staging
copy of its own (`.mutate/<context>/`) where the layer's package `dropshop` sits at the top, as on Lambda's path.
A context is tested against the unit tests that import it, not all of `tests/unit`: mutmut's stats and clean runs
then cost that context's tests only. The staging copy is kept between runs: mutmut keeps the verdict of every
mutant whose function is unchanged, so a second run tests only new or changed functions and re-tests the last
run's survivors (a test added since may kill them). mutmut 3.8 needs a newer click than SAM CLI allows, so it
lives in `.venv-mutmut`, which sees the project's venv through a .pth file.

    python -m tools.mutate                                   # every context (docs/tests.md: how long)
    python -m tools.mutate --contexts identity platform.json_depth
    python -m tools.mutate --only dropshop/identity/claims.py --tests tests/unit/test_authorizer_claims.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ROOT / ".mutate"
VENV = ROOT / ".venv-mutmut"
REQUIREMENTS = ROOT / "requirements-mutmut.txt"
# The domain contexts, platform's body guard and streaming (issue #24), by the name their staging copy has.
CONTEXTS = {
    "accounts": "dropshop/accounts/",
    "catalog": "dropshop/catalog/",
    "orders": "dropshop/orders/",
    "invoicing": "dropshop/invoicing/",
    "ingestion": "dropshop/ingestion/",
    "identity": "dropshop/identity/",
    "platform.json_body": "dropshop/platform/json_body.py",
    "platform.json_depth": "dropshop/platform/json_depth.py",
    "platform.streaming": "dropshop/platform/streaming.py",
}
FAST_SUITES = ["tests/unit"]
COPIED = ["tests", "handlers", "tools", "events", "template.yaml", "samconfig.toml"]
MUTANT = r"(?P<module>dropshop\.[\w.]+?)\.x\w*__mutmut_\d+"
RESULT = re.compile(rf"^\s*(?P<name>{MUTANT}): (?P<status>[\w ]+)$")
# mutmut's statuses that count as caught: a failing test, or a mutant that made the tests run past their timeout.
CAUGHT = ("killed", "timeout")
# What to test again on a kept staging copy: a verdict a new or sharper test may change.
RETESTED = ("survived", "no tests")
# A mutant's CPU-time limit is (its tests' time + 1 s) * this * 2 (mutmut's rule; its default 15 let each mutant
# that loops forever cost minutes of CPU, streaming's property tests 5 minutes each). Its tests cost the same CPU
# however loaded the machine, so 6 times theirs (3 * 2) is ample.
TIMEOUT_MULTIPLIER = 3.0
# Hypothesis' profile for mutants (tests/support/properties.py): ci's examples, and no shrinking of the one that fails.
HYPOTHESIS = {"HYPOTHESIS_PROFILE": "mutation"}


def mutmut() -> Path:
    """mutmut's own venv, made once, with the project's packages (this interpreter's) through a .pth file.

    The .pth is written on every run: a venv made by another interpreter once pointed it at packages that lacked
    the layer's newer dependencies."""
    binary = VENV / "bin" / "mutmut"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603 - our interpreter
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
        subprocess.run(pip, check=True)  # noqa: S603 - pip from the venv just made
    site = next((VENV / "lib").glob("python3*/site-packages"))
    project = f"{Path(sysconfig.get_paths()['purelib']).resolve()}\n"
    pth = site / "project-venv.pth"
    if not pth.exists() or pth.read_text() != project:
        pth.write_text(project)
    return binary


def context_of(source: str) -> str:
    """The context a source path (from dropshop/) or a mutant's module (dropshop.x.y) belongs to."""
    parts = re.split(r"[./]", source.removesuffix(".py"))
    return ".".join(parts[1:3]) if parts[1] == "platform" else parts[1]


def importers(sources: list[str], suites: list[str] = FAST_SUITES) -> list[str]:
    """The test files in `suites` that import a module of `sources`' contexts (a directory context: any of its
    modules), sorted: the tests whose calls mutmut traces to map each function to the tests that reach it."""
    patterns = []
    for context in sorted({context_of(source) for source in sources}):
        package, _, module = f"dropshop.{context}".rpartition(".")
        patterns.append(rf"\b{re.escape(package)}\.{module}\b")
        patterns.append(rf"from {re.escape(package)} import (\([^)]*|[^\n]*)\b{module}\b")
    imports = re.compile("|".join(patterns))
    found = {
        str(path.relative_to(ROOT))
        for suite in suites
        for path in (ROOT / suite).rglob("test_*.py")
        if imports.search(path.read_text())
    }
    return sorted(found)


def stage(directory: Path, sources: list[str], tests: list[str], fresh: bool) -> None:
    """A copy of the project with `dropshop` at the top and mutmut's configuration for `sources`.

    mutmut's `mutants/` (its copy with the mutants, their verdicts and the test map) stays unless `fresh`; every
    other file is copied again, keeping its modification time, which is how mutmut tells an edited module from
    one it already mutated. mutmut runs pytest several times in one process (stats, clean run, then a fork per
    mutant). Without `-s` the Logger's handler keeps the first run's capture stream, closed by the second run,
    and `tests/conftest.py`'s `logs` fixture fails flushing it.

    mutmut is told the directories of `tests`, not the files: a new file changes its test selection, which would
    make it forget every verdict, where a new test in a selected directory is only traced. The copy's directories
    hold just the files of `tests` (in mutmut's copy too, which it only ever adds to)."""
    if fresh:
        shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    # mutmut traces which tests reach which function once, and after that only for new tests: a module mutated for
    # the first time (`--only` another module of a kept context) would have no test reaching it, all "no tests".
    # Without the trace mutmut traces everything again; the verdicts, kept per function, stay.
    traced, stats = directory / "mutants" / "dropshop-sources.json", directory / "mutants" / "mutmut-stats.json"
    if not (stats.exists() and traced.exists()) or not set(sources) <= set(json.loads(traced.read_text())):
        stats.unlink(missing_ok=True)
        traced.parent.mkdir(exist_ok=True)
        traced.write_text(json.dumps(sources))
    for entry in directory.iterdir():
        if entry.name != "mutants":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "layers" / "shared" / "dropshop", directory / "dropshop", ignore=ignore)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, directory / name, ignore=ignore)
        else:
            shutil.copy2(source, directory / name)
    suites = sorted({str(Path(test).parent) for test in tests})
    selected = {Path(test).name for test in tests}
    for suite in suites:
        for copy in (directory / suite, directory / "mutants" / suite):
            for unselected in (p for p in copy.glob("test_*.py") if p.name not in selected):
                unselected.unlink()
    project = (ROOT / "pyproject.toml").read_text().replace('pythonpath = ["layers/shared", "."]', 'pythonpath = ["."]')
    configuration = f"""
[tool.mutmut]
source_paths = {sources!r}
also_copy = {["dropshop/", *[f"{n}/" if (ROOT / n).is_dir() else n for n in COPIED]]!r}
pytest_add_cli_args_test_selection = {suites!r}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-s"]
timeout_multiplier = {TIMEOUT_MULTIPLIER}
"""
    (directory / "pyproject.toml").write_text(project + configuration)


def statuses(results: str) -> dict[str, str]:
    """Each mutant's status ("killed", "survived", "no tests", "timeout", ...), from `mutmut results --all true`."""
    return {match["name"]: match["status"].strip() for line in results.splitlines() if (match := RESULT.match(line))}


def scores(results: str) -> dict[str, Counter[str]]:
    """Mutants by module and status, from `mutmut results --all true`."""
    found: dict[str, Counter[str]] = {}
    for name, status in statuses(results).items():
        module = re.sub(r"\.x\w*__mutmut_\d+$", "", name)
        found.setdefault(module, Counter())[status] += 1
    return found


def listed(binary: Path, directory: Path) -> str:
    if not (directory / "mutants").exists():
        return ""
    return subprocess.run(  # noqa: S603 - mutmut from its venv
        [str(binary), "results", "--all", "true"], cwd=directory, check=True, capture_output=True, text=True
    ).stdout


def run(
    sources: list[str], tests: list[str] | None = None, workers: int | None = None, fresh: bool = False
) -> dict[str, Counter[str]]:
    """Mutate `sources` (one context's) in its staging copy against `tests` (by default the unit tests importing
    the context); the last run's survivors are tested again."""
    binary = mutmut()
    directory = STAGES / context_of(sources[0])
    selected = tests or importers(sources)
    stage(directory, sources, selected, fresh)
    children = [] if workers is None else ["--max-children", str(workers)]
    before = {name for name, status in statuses(listed(binary, directory)).items() if status in RETESTED}
    environment = {**os.environ, **HYPOTHESIS}
    subprocess.run([str(binary), "run", *children], cwd=directory, env=environment, check=True)  # noqa: S603 - mutmut
    # Still survivors: kept verdicts (a changed function's mutants were tested afresh just now, and got theirs).
    retested = sorted(
        name for name, status in statuses(listed(binary, directory)).items() if status in RETESTED and name in before
    )
    if retested:
        print(f"testing again the last run's {len(retested)} survivors and mutants without tests")
        again = [str(binary), "run", *children, *retested]
        subprocess.run(again, cwd=directory, env=environment, check=True)  # noqa: S603 - mutmut from its venv
    return scores(listed(binary, directory))


def table(found: dict[str, Counter[str]], seconds: dict[str, float]) -> str:
    """Each context's counts and score: caught (killed or timed out) of all its mutants."""
    by_context: dict[str, Counter[str]] = {}
    for module, counts in found.items():
        by_context.setdefault(context_of(module), Counter()).update(counts)
    lines = [f"{'context':22} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} {'no tests':>8} {'score':>6}"]
    for context, counts in sorted(by_context.items()):
        total = sum(counts.values())
        caught = sum(counts[status] for status in CAUGHT)
        took = f"  ({seconds[context] / 60:.1f} min)" if context in seconds else ""
        lines.append(
            f"{context:22} {total:7} {counts['killed']:6} {counts['timeout']:7} {counts['survived']:8}"
            f" {counts['no tests']:8} {caught / total:6.0%}{took}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contexts", nargs="+", choices=sorted(CONTEXTS), default=sorted(CONTEXTS))
    parser.add_argument("--only", nargs="+", help="source paths (from dropshop/) to mutate, instead of contexts")
    parser.add_argument("--tests", nargs="+", help="the tests that must kill the mutants (default: the importers)")
    parser.add_argument("--max-children", type=int, help="mutants tested at once (mutmut's default: one per core)")
    parser.add_argument("--fresh", action="store_true", help="forget the kept verdicts and test every mutant")
    args = parser.parse_args(argv)
    groups: dict[str, list[str]] = {}
    for source in args.only or [CONTEXTS[name] for name in args.contexts]:
        groups.setdefault(context_of(source), []).append(source)
    found: dict[str, Counter[str]] = {}
    seconds: dict[str, float] = {}
    for context, sources in groups.items():
        started = time.monotonic()
        found.update(run(sources, args.tests, args.max_children, args.fresh))
        seconds[context] = time.monotonic() - started
        print(table(found, seconds), flush=True)
    print(f"survivors: (cd {STAGES.relative_to(ROOT)}/<context> && ../../{VENV.relative_to(ROOT)}/bin/mutmut results)")


if __name__ == "__main__":
    main(sys.argv[1:])
