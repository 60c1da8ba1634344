"""tools/mutate.py's staging copy: mutmut's trace of which tests reach which function is kept between runs, and
traced again when a run mutates a module the kept trace never saw (else its mutants all read "no tests")."""

from __future__ import annotations

from pathlib import Path

from tools import mutate

VAT, CURRENCIES = "dropshop/catalog/vat.py", "dropshop/catalog/currencies.py"
TESTS = ["tests/unit/test_vat.py"]


def _traced_by_mutmut(directory: Path) -> Path:
    """What mutmut leaves after tracing a run's tests (its content does not matter to the staging)."""
    stats = directory / "mutants" / "mutmut-stats.json"
    stats.write_text("{}")
    return stats


def test_the_trace_is_kept_until_a_run_mutates_a_module_it_never_saw(tmp_path: Path) -> None:
    mutate.stage(tmp_path, [VAT], TESTS, fresh=False)
    stats = _traced_by_mutmut(tmp_path)
    mutate.stage(tmp_path, [VAT], TESTS, fresh=False)
    assert stats.exists()

    mutate.stage(tmp_path, [VAT, CURRENCIES], TESTS, fresh=False)
    assert not stats.exists()

    _traced_by_mutmut(tmp_path)
    mutate.stage(tmp_path, [CURRENCIES], TESTS, fresh=False)
    assert stats.exists()  # the new trace saw both


def test_a_copy_kept_from_before_the_sources_were_recorded_is_traced_again(tmp_path: Path) -> None:
    (tmp_path / "mutants").mkdir()
    stats = _traced_by_mutmut(tmp_path)

    mutate.stage(tmp_path, [VAT], TESTS, fresh=False)

    assert not stats.exists()
