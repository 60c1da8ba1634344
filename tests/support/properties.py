"""The one Hypothesis configuration of every property test: profiles registered once (tests/conftest.py loads the
one `HYPOTHESIS_PROFILE` names, `ci` by default) and `budget`, a test's own number of examples in that profile.

ci: derandomized, without deadlines and small enough for its time budget. The examples are the same for the same
project modules loaded, not for every selection of tests: Hypothesis also draws constants from the project's
loaded modules, so a lone test and the whole suite may try different inputs. A failure in either is a real
counter-example, not a flake (there is no deadline): keep it as an @example;
dev: random, five times the examples, with Hypothesis' example database (failures replay first);
thorough: random and a hundred times the examples, to hunt for counter-examples (keep each one as an @example);
mutation: ci's examples without shrinking or explaining a failure: `make mutate` (tools/mutate.py) needs only
whether a mutant fails a test, and shrinking a killed mutant's counter-example costs more than finding it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
SCALE = {"ci": 1, "dev": 5, "thorough": 100, "mutation": 1}
# What every profile shares: no deadline (moto's speed is not under test), the blob to reproduce a failure, and
# fixtures made once per test and reset by the test between examples (the moto stacks).
SHARED = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
}
DEFAULT_EXAMPLES = 100  # Hypothesis' own, for a test that asks for no budget
# The phases that find a failing example; shrink and explain only make it smaller and clearer.
FINDING = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)


def register_profiles() -> str:
    """Register ci, mutation, dev and thorough and load the one the environment names; its name."""
    settings.register_profile("ci", max_examples=DEFAULT_EXAMPLES, derandomize=True, database=None, **SHARED)
    settings.register_profile("mutation", settings.get_profile("ci"), phases=FINDING)
    for name in ("dev", "thorough"):
        settings.register_profile(name, max_examples=DEFAULT_EXAMPLES * SCALE[name], derandomize=False, **SHARED)
    profile = current_profile()
    settings.load_profile(profile)
    return profile


def current_profile() -> str:
    profile = os.environ.get(PROFILE_VARIABLE, "ci")
    if profile not in SCALE:
        raise ValueError(f"{PROFILE_VARIABLE}={profile}: choose one of {', '.join(SCALE)}")
    return profile


def budget(examples: int) -> settings:
    """`examples` in the ci profile, scaled for the others; every other setting is the loaded profile's."""
    return settings(max_examples=examples * SCALE[current_profile()])
