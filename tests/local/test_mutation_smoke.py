"""`make mutate`'s smoke run: mutmut, staged as tools/mutate.py stages it, mutates one small module and its unit
tests kill the mutants (the full run, every context, is too slow for CI: docs/tests.md)."""

from __future__ import annotations

import pytest

from tools import mutate


@pytest.mark.slow
def test_the_vat_rules_mutants_are_killed_by_its_unit_tests() -> None:
    # Fresh: a kept staging copy (`make mutate` keeps verdicts between runs) would only be read back.
    found = mutate.run(["dropshop/catalog/vat.py"], ["tests/unit/test_vat.py"], fresh=True)
    counts = found["dropshop.catalog.vat"]
    total = sum(counts.values())
    assert total >= 30  # mutmut did mutate the module
    # Two equivalent mutants survive: `exact.prec = 51` (50 is already beyond any total's digits) and
    # `quantize(Decimal(2))` (quantize reads only the exponent, 0 for 1 and 2).
    assert counts["killed"] >= total - 2, counts
