"""One Hypothesis configuration for every property test: the profile HYPOTHESIS_PROFILE names (ci by default:
derandomized, no deadline), each test's own budget scaled by it, and no test with settings of its own."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
CONFIGURATION = TESTS / "support" / "properties.py"

PROBE = """
import json
from hypothesis import Phase, given, settings, strategies as st
from tests.support.properties import budget, register_profiles

register_profiles()

@given(st.integers())
def bare(number):
    pass

@budget(10)
@given(st.integers())
def budgeted(number):
    pass

def seen(test):
    used = test._hypothesis_internal_use_settings
    return {
        "examples": used.max_examples,
        "derandomize": used.derandomize,
        "deadline": used.deadline,
        "shrinks": Phase.shrink in used.phases,
        "generates": Phase.generate in used.phases,
    }

print(json.dumps({"bare": seen(bare), "budgeted": seen(budgeted)}))
"""


def settings_under(profile: str | None) -> dict[str, dict[str, object]]:
    environment = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"}
    if profile:
        environment["HYPOTHESIS_PROFILE"] = profile
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    found: dict[str, dict[str, object]] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize(
    ("profile", "bare", "budgeted", "derandomized", "shrinks"),
    [
        (None, 100, 10, True, True),
        ("ci", 100, 10, True, True),
        ("dev", 500, 50, False, True),
        ("thorough", 10_000, 1_000, False, True),
        # `make mutate`: ci's examples, a failure not shrunk (only whether a mutant fails counts there).
        ("mutation", 100, 10, True, False),
    ],
)
def test_every_property_test_runs_under_the_profile_the_environment_names(
    profile: str | None, bare: int, budgeted: int, derandomized: bool, shrinks: bool
) -> None:
    seen = settings_under(profile)
    expected = {"derandomize": derandomized, "deadline": None, "shrinks": shrinks, "generates": True}
    assert seen["bare"] == {"examples": bare, **expected}
    assert seen["budgeted"] == {"examples": budgeted, **expected}


def hypothesis_settings_made_in(path: Path) -> list[int]:
    """Lines where a module imports Hypothesis' `settings` (to make its own) rather than taking a budget."""
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module == "hypothesis"
        and any(alias.name == "settings" for alias in node.names)
    ]


def test_no_test_module_makes_hypothesis_settings_of_its_own() -> None:
    own = {
        str(path.relative_to(ROOT)): lines
        for path in TESTS.rglob("*.py")
        if path != CONFIGURATION and (lines := hypothesis_settings_made_in(path))
    }
    assert own == {}
