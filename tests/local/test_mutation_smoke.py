"""`make mutate`'s smoke run: mutmut, staged as tools/mutate.py stages it, mutates one small module and its unit
tests kill the mutants (the full run, every context, is too slow for CI: docs/tests.md)."""

from __future__ import annotations

import pytest

from tools import mutate


@pytest.mark.slow
def test_the_vat_rules_mutants_are_killed_by_its_unit_tests() -> None:
    # Fresh: a kept staging copy (`make mutate` keeps verdicts between runs) would only be read back.
    took: dict[str, tuple[float, float]] = {}
    found = mutate.run(["dropshop/catalog/vat.py"], ["tests/unit/test_vat.py"], fresh=True, took=took)
    counts = found["dropshop.catalog.vat"]
    total = sum(counts.values())
    assert total >= 30  # mutmut did mutate the module
    # Its two equivalent mutants, listed in tools/equivalent_mutants.toml, are not run: `exact.prec = 51` (50 is
    # already beyond any total's digits) and `quantize(Decimal(2))` (quantize reads only the exponent, 0 for 1 and 2).
    assert counts[mutate.EQUIVALENT] == 2, counts
    assert counts["killed"] == total - 2, counts
    header, *_, row, _ = mutate.table(found, took).splitlines()
    assert mutate.EQUIVALENT in header
    assert row.split()[:7] == ["catalog", str(total), str(total - 2), "0", "0", "0", "2"], row
    assert row.split()[8] == "100%", row  # of the mutants not listed equivalent
