"""`make mutate`: mutmut over the domain contexts against the fast suites, and each context's score.

mutmut names a mutant after its module's path from the directory it runs in, so it runs in a staging copy where
the layer's package `dropshop` sits at the top, as on Lambda's path. Every context shares one copy
(`.mutate/all/`): mutmut traces the unit tests that import any context once ("stats"), not once per context, and
then each context is one `mutmut run` of that context's mutants, so its wall time and CPU seconds are its own
(printed per context). `--tests`, or a module outside the contexts, stages a copy of its own
(`.mutate/<context>/`).

A copy is kept between runs: mutmut keeps the verdict of every mutant whose function is unchanged, so a second run
tests only new or changed functions and the last run's survivors (a test added since may kill them).

A survivor shown equivalent by reasoning (docs/tests.md says why) is listed in `tools/equivalent_mutants.toml` with a
short hash of its diff as `mutmut show NAME` prints it: a listed mutant whose diff still matches is not run, fresh or
not, and counts as "equivalent (listed)". A renumbered or changed mutant no longer matches (its name or its diff
differs), so it is tested again and the run says the listing is stale.

mutmut 3.8 needs a newer click than SAM CLI allows, so it lives in `.venv-mutmut`, which sees the project's venv
through a .pth file.

    python -m tools.mutate                                   # every context (docs/tests.md: how long)
    python -m tools.mutate --contexts identity platform.json_depth
    python -m tools.mutate --only dropshop/identity/claims.py --tests tests/unit/test_authorizer_claims.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ROOT / ".mutate"
SHARED = STAGES / "all"  # the one copy every context shares, unless a run names its own tests
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
EQUIVALENTS = ROOT / "tools" / "equivalent_mutants.toml"
EQUIVALENT = "equivalent (listed)"  # the status of a listed equivalent whose diff matches: not run
# What mutmut's pytest runs load: Hypothesis' profile without shrinking (tests/support/properties.py); pytest's
# cache off, quiet, and `-s` (stage() says why).
ENVIRONMENT = {"HYPOTHESIS_PROFILE": "mutation"}
PYTEST_ARGS = ["-p", "no:cacheprovider", "-q", "-s"]
# mutmut stops a mutant after (its tests' traced wall time + 1 s) * this of wall time, or twice that of CPU time
# (mutmut 3.8.1's workers/isolation.py); a mutant stopped so counts as caught. Wall time is the binding limit, and it
# grows with the machine's load: 6 leaves room for a mutant tested at 6 times the load of the trace's, where
# mutmut's 15 let each mutant that loops forever cost minutes (streaming's property tests 5 minutes each).
TIMEOUT_MULTIPLIER = 6.0
# mutmut's first steps of `mutmut run` (requirements-mutmut.txt pins 3.8.1): make every mutant, then trace or load
# which tests reach which function; run in the staging copy by mutmut's interpreter. It leaves each mutant's verdict
# as mutmut would (a changed function's mutants are "not checked"), so the runs that follow can name what to test.
# The trace is of every selected test; a function then keeps only the tests of its context's own test files, as
# when each context had a copy of its own: a survivor runs every test that reaches its function, and a trace of
# all contexts would add other contexts' tests to it.
PREPARED = "(mutants and trace)"  # the step PREPARE is, in the table
PREPARE = """
import json
import os
import sys
from mutmut.__main__ import (
    collect_or_load_stats, copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths,
    store_lines_covered_by_tests,
)
from mutmut.mutation.trampoline import set_mutant_under_test
from mutmut.workers.isolation import get_mutant_runner

os.makedirs("mutants", exist_ok=True)
set_mutant_under_test("mutant_generation")
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
store_lines_covered_by_tests()
create_mutants(1)
collect_or_load_stats(get_mutant_runner(1), apply_config_invalidation=True)

from mutmut.state import state
from mutmut.stats import save_stats

sys.path.insert(0, sys.argv[2])
from tools.mutate import narrow

narrow(state().tests_by_mangled_function_name, json.loads(sys.argv[1]))
save_stats()
"""


# Each mutant's diff as `mutmut show NAME` prints it after its first line; run in the staging copy by mutmut's
# interpreter, with the names as JSON.
DIFFS = """
import json
import sys
from mutmut.mutation.diff_apply import get_diff_for_mutant

print(json.dumps({name: get_diff_for_mutant(name) for name in json.loads(sys.argv[1])}))
"""


def mutmut() -> Path:
    """mutmut's own venv, made once, with the project's packages (this interpreter's) through a .pth file.

    The .pth is written on every run: a venv made by another interpreter once pointed it at packages that lacked
    the layer's newer dependencies."""
    binary = VENV / "bin" / "mutmut"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603 - our interpreter
    site = next((VENV / "lib").glob("python3*/site-packages"))
    # PREPARE calls mutmut's internals, so a venv made for another pin is brought to this one.
    pinned = re.search(r"^mutmut==(\S+)", REQUIREMENTS.read_text(), re.MULTILINE)
    if pinned is None or not (site / f"mutmut-{pinned[1]}.dist-info").is_dir():
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
        subprocess.run(pip, check=True)  # noqa: S603 - pip from the venv made for make mutate
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
        patterns.append(rf"^\s*(?:from|import) {re.escape(package)}\.{module}\b")
        patterns.append(rf"^\s*from {re.escape(package)} import (\([^)]*|[^\n]*)\b{module}\b")
    # Import statements only: a test that names a module in a string (a mutant's name, a path) does not test it.
    imports = re.compile("|".join(patterns), re.MULTILINE)
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
    unchanged = unmutated(directory, sources)
    # mutmut copies each `also_copy` file with a bare `shutil.copy2` (utils/file_utils.py), which needs the folder.
    for path in unchanged:
        (directory / "mutants" / path).parent.mkdir(parents=True, exist_ok=True)
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
also_copy = {[*unchanged, *[f"{n}/" if (ROOT / n).is_dir() else n for n in COPIED]]!r}
pytest_add_cli_args_test_selection = {suites!r}
pytest_add_cli_args = {PYTEST_ARGS!r}
timeout_multiplier = {TIMEOUT_MULTIPLIER}
"""
    (directory / "pyproject.toml").write_text(project + configuration)


def narrow(tests_by_function: dict[str, set[str]], own: dict[str, list[str]]) -> None:
    """Leave each traced function (`dropshop.catalog.vat.x_split`) the tests (`tests/unit/test_vat.py::test_x`) of
    its own context's test files: `own`, the files by the start of the functions' names."""
    for function, tests in tests_by_function.items():
        files = next((files for prefix, files in own.items() if function.startswith(prefix)), None)
        if files is not None:
            tests.difference_update({test for test in tests if test.partition("::")[0] not in files})


def unmutated(directory: Path, sources: list[str]) -> list[str]:
    """The staged layer's files outside `sources`, which mutmut is told to copy as they are. Not all of `dropshop/`:
    mutmut copies those over its mutants on every run, and then mutates every module again (minutes for them all)."""
    mutated = tuple(sources)  # a directory's path ends with "/"
    return sorted(
        str(path.relative_to(directory))
        for path in (directory / "dropshop").rglob("*")
        if path.is_file() and not str(path.relative_to(directory)).startswith(mutated)
    )


def statuses(results: str) -> dict[str, str]:
    """Each mutant's status ("killed", "survived", "no tests", "timeout", ...), from `mutmut results --all true`."""
    return {match["name"]: match["status"].strip() for line in results.splitlines() if (match := RESULT.match(line))}


def scores(status_by_name: dict[str, str]) -> dict[str, Counter[str]]:
    """Mutants by module and status."""
    found: dict[str, Counter[str]] = {}
    for name, status in status_by_name.items():
        module = re.sub(r"\.x\w*__mutmut_\d+$", "", name)
        found.setdefault(module, Counter())[status] += 1
    return found


def listed(binary: Path, directory: Path) -> str:
    if not (directory / "mutants").exists():
        return ""
    return subprocess.run(  # noqa: S603 - mutmut from its venv
        [str(binary), "results", "--all", "true"], cwd=directory, check=True, capture_output=True, text=True
    ).stdout


def module_prefix(source: str) -> str:
    """The start of every mutant's name in `source` (a module, or a directory of modules, from dropshop/)."""
    return source.removesuffix(".py").rstrip("/").replace("/", ".") + "."


def shared(sources: list[str]) -> bool:
    """Whether every one of `sources` lies in a context of the shared staging copy."""
    return all(any(source.startswith(path) for path in CONTEXTS.values()) for source in sources)


def children_cpu() -> float:
    """CPU seconds of every finished child process so far (mutmut, and the workers it forked and waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def diff_hash(diff: str) -> str:
    """The short hash `tools/equivalent_mutants.toml` lists of a mutant's diff: that of what `mutmut show NAME`
    prints after its first line, `mutmut show NAME | tail -n +2 | sha256sum | cut -c1-12`."""
    return hashlib.sha256(f"{diff}\n".encode()).hexdigest()[:12]


def equivalents(python: Path, directory: Path, kept: dict[str, str], prefixes: tuple[str, ...]) -> set[str]:
    """The listed equivalent mutants starting with `prefixes` whose diff in the staging copy is still the listed one.
    A listed mutant missing from `kept`, or with another diff, is stale: it is said, and tested as any other."""
    listing = {entry["name"]: entry["diff"] for entry in tomllib.loads(EQUIVALENTS.read_text())["equivalent"]}
    ours = sorted(name for name in listing if name.startswith(prefixes))
    present = [name for name in ours if name in kept]
    diffs: dict[str, str] = {}
    if present:
        shown = [str(python), "-c", DIFFS, json.dumps(present)]
        answer = subprocess.run(  # noqa: S603 - mutmut's interpreter
            shown, cwd=directory, check=True, capture_output=True, text=True
        )
        diffs = json.loads(answer.stdout)
    matching = {name for name in present if diff_hash(diffs[name]) == listing[name]}
    for name in ours:
        if name not in matching:
            change = "its diff changed" if name in present else "no such mutant"
            print(f"{name}: stale listing in {EQUIVALENTS.relative_to(ROOT)} ({change}): tested again", flush=True)
    return matching


def to_test(kept: dict[str, str], prefixes: list[str], fresh: bool, equivalent: set[str]) -> tuple[list[str], int]:
    """What to name to `mutmut run` for the mutants starting with `prefixes`, given each mutant's `kept` status,
    and how many mutants that is: those without a final verdict (all of them if `fresh`), but the `equivalent` ones
    listed. mutmut tests every mutant it is given by name or pattern, verdict or not; naming many costs it a pattern
    match per mutant and name, so when all of them need testing they go by pattern."""
    names = sorted(name for name in kept if name.startswith(tuple(prefixes)))
    testable = [name for name in names if name not in equivalent]
    # Anything but caught is tested again: a survivor a new test may kill, "not checked", or a run cut short
    # ("check was interrupted by user", "segfault" for a worker the kernel killed, "suspicious").
    untested = testable if fresh else [name for name in testable if kept[name] not in CAUGHT]
    if untested == names and names:
        return [f"{prefix}*" for prefix in prefixes], len(names)
    return untested, len(untested)


class Took:
    """A step's wall time and CPU seconds (its child processes'), measured from construction to `done`."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.monotonic(), children_cpu()

    def done(self) -> tuple[float, float]:
        return time.monotonic() - self.wall, children_cpu() - self.cpu


def run(
    sources: list[str],
    tests: list[str] | None = None,
    workers: int | None = None,
    fresh: bool = False,
    took: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Counter[str]]:
    """Mutate `sources` against `tests` (by default in the shared copy, against the unit tests importing any
    context), one `mutmut run` per context; mutants with a verdict kept from an earlier run are not tested again,
    unless `fresh`, but survivors are. `took` gets each step's wall time and CPU seconds."""
    took = {} if took is None else took
    binary = mutmut()
    if tests is None and shared(sources):
        directory, staged = SHARED, list(CONTEXTS.values())
        # A fresh run of some contexts tests their mutants again; only a fresh run of all forgets the copy.
        forget = fresh and {module_prefix(s) for s in sources} == {module_prefix(s) for s in staged}
    else:
        directory, staged, forget = STAGES / context_of(sources[0]), sources, fresh
    stage(directory, staged, tests or importers(staged), forget)
    environment = os.environ | ENVIRONMENT
    step = Took()
    python = binary.with_name("python")
    own = {module_prefix(source): importers([source]) for source in staged} if tests is None else {}
    prepare = [str(python), "-c", PREPARE, json.dumps(own), str(ROOT)]
    subprocess.run(prepare, cwd=directory, check=True, env=environment)  # noqa: S603 - mutmut's interpreter
    wall, cpu = step.done()
    before = took.get(PREPARED, (0.0, 0.0))
    took[PREPARED] = (before[0] + wall, before[1] + cpu)
    kept = statuses(listed(binary, directory))
    mutated = tuple(module_prefix(source) for source in sources)
    equivalent = equivalents(python, directory, kept, mutated)
    groups: dict[str, list[str]] = {}
    for source in sources:
        groups.setdefault(context_of(source), []).append(module_prefix(source))
    for context, prefixes in groups.items():
        named, count = to_test(kept, prefixes, fresh, equivalent)
        if not named:
            continue
        print(f"{context}: testing {count} mutants", flush=True)
        step = Took()
        children = [] if workers is None else ["--max-children", str(workers)]
        mutate = [str(binary), "run", *children, *named]
        # One context's failure (a clean run too slow for a test's own timeout on a busy machine) is reported, and
        # the other contexts still run.
        if subprocess.run(mutate, cwd=directory, env=environment).returncode:  # noqa: S603 - mutmut from its venv
            print(f"{context}: mutmut failed, see above; its mutants not tested are 'not checked'", flush=True)
        took[context] = step.done()
    found = scores(statuses(listed(binary, directory)) | dict.fromkeys(equivalent, EQUIVALENT))
    return {module: counts for module, counts in found.items() if f"{module}.".startswith(mutated)}


def table(found: dict[str, Counter[str]], took: dict[str, tuple[float, float]]) -> str:
    """Each context's counts and scores (caught, killed or timed out, of all its mutants, and of those not listed
    equivalent), and what each step of this run took: wall minutes and CPU seconds (the shared trace is paid once,
    by the first step)."""
    by_context: dict[str, Counter[str]] = {}
    for module, counts in found.items():
        by_context.setdefault(context_of(module), Counter()).update(counts)
    lines = [
        f"{'context':22} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} {'no tests':>8} {EQUIVALENT:>19}"
        f" {'score':>6} {'of the rest':>11} {'wall min':>8} {'CPU s':>7}"
    ]
    blank = f"{'':22} {'':7} {'':6} {'':7} {'':8} {'':8} {'':19} {'':6} {'':11}"

    def spent(step: str) -> str:
        return f" {took[step][0] / 60:8.1f} {took[step][1]:7.0f}" if step in took else ""

    if PREPARED in took:
        lines.append(f"{PREPARED:22}{blank[22:]}{spent(PREPARED)}")
    for context, counts in sorted(by_context.items()):
        total = sum(counts.values())
        caught = sum(counts[status] for status in CAUGHT)
        rest = total - counts[EQUIVALENT]
        lines.append(
            f"{context:22} {total:7} {counts['killed']:6} {counts['timeout']:7} {counts['survived']:8}"
            f" {counts['no tests']:8} {counts[EQUIVALENT]:19} {caught / total:6.0%}"
            f" {f'{caught / rest:.0%}' if rest else '-':>11}{spent(context)}"
        )
    wall, cpu = sum(w for w, _ in took.values()), sum(c for _, c in took.values())
    lines.append(f"{'steps':22}{blank[22:]} {wall / 60:8.1f} {cpu:7.0f}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contexts", nargs="+", choices=sorted(CONTEXTS), default=sorted(CONTEXTS))
    parser.add_argument("--only", nargs="+", help="source paths (from dropshop/) to mutate, instead of contexts")
    parser.add_argument("--tests", nargs="+", help="the tests that must kill the mutants (default: the importers)")
    parser.add_argument("--max-children", type=int, help="mutants tested at once (mutmut's default: one per core)")
    parser.add_argument("--fresh", action="store_true", help="test every mutant again, forgetting kept verdicts")
    args = parser.parse_args(argv)
    sources = args.only or [CONTEXTS[name] for name in args.contexts]
    took: dict[str, tuple[float, float]] = {}
    if args.tests or not shared(sources):
        found: dict[str, Counter[str]] = {}
        for context in dict.fromkeys(context_of(source) for source in sources):
            own = [source for source in sources if context_of(source) == context]
            found.update(run(own, args.tests, args.max_children, args.fresh, took))
    else:
        found = run(sources, None, args.max_children, args.fresh, took)
    print(table(found, took), flush=True)
    stage = (SHARED if not args.tests and shared(sources) else STAGES / "<context>").relative_to(ROOT)
    print(f"survivors: (cd {stage} && ../../{VENV.relative_to(ROOT)}/bin/mutmut results)")


if __name__ == "__main__":
    main(sys.argv[1:])
