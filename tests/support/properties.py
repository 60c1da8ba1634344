"""Hypothesis budgets for the property suites, by profile (PROPERTIES=ci|dev|thorough, default ci).

ci: derandomized and small enough for its time budget. The examples are the same for the same project modules
loaded, not for every selection of tests: Hypothesis also draws constants from the project's loaded modules, so a
lone test and the whole suite may try different inputs. A failure in either is a real counter-example, not a flake
(there is no deadline): keep it as an @example;
dev: random, a few times more; thorough: random and a hundred times more, to hunt for counter-examples
(keep each one found as an @example)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SCALE = {"ci": 1, "dev": 5, "thorough": 100}


def budget(examples: int) -> settings:
    """`examples` in CI, scaled for the other profiles; no deadline (moto's speed is not under test)."""
    profile = os.environ.get("PROPERTIES", "ci")
    return settings(
        max_examples=examples * _SCALE[profile],
        derandomize=profile == "ci",
        deadline=None,
        database=None,
        print_blob=True,
        # The moto stack is made once per test and reset by the test between examples.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
