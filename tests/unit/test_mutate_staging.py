"""tools/mutate.py's staging copy: mutmut's trace of which tests reach which function is kept between runs, and
traced again when a run mutates a module the kept trace never saw (else its mutants all read "no tests")."""

from __future__ import annotations

import re
import tomllib
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


VERDICTS = {
    "dropshop.catalog.vat.x_split__mutmut_1": "killed",
    "dropshop.catalog.vat.x_split__mutmut_2": "survived",
    "dropshop.catalog.vat.x_split__mutmut_3": "not checked",
    "dropshop.catalog.vat.x_split__mutmut_4": "timeout",
    "dropshop.catalog.vat.x_split__mutmut_5": "no tests",
    "dropshop.catalog.model.x_price__mutmut_1": "survived",
    "dropshop.orders.model.x_total__mutmut_1": "not checked",
    "dropshop.catalog.vat.x_split__mutmut_6": "check was interrupted by user",
    "dropshop.catalog.vat.x_split__mutmut_7": "segfault",
}


def test_a_kept_copy_tests_again_only_the_mutants_without_a_final_verdict() -> None:
    named, count = mutate.to_test(VERDICTS, ["dropshop.catalog.vat."], fresh=False, equivalent=set())

    assert named == [
        "dropshop.catalog.vat.x_split__mutmut_2",
        "dropshop.catalog.vat.x_split__mutmut_3",
        "dropshop.catalog.vat.x_split__mutmut_5",
        "dropshop.catalog.vat.x_split__mutmut_6",
        "dropshop.catalog.vat.x_split__mutmut_7",
    ]
    assert count == 5


def test_a_context_whose_mutants_all_need_testing_is_named_by_pattern() -> None:
    by_pattern = (["dropshop.catalog.vat.*"], 7)
    assert mutate.to_test(VERDICTS, ["dropshop.catalog.vat."], fresh=True, equivalent=set()) == by_pattern
    assert mutate.to_test(VERDICTS, ["dropshop.orders."], fresh=False, equivalent=set()) == (["dropshop.orders.*"], 1)


def test_a_listed_equivalent_is_not_named_fresh_or_kept() -> None:
    equivalent = {"dropshop.catalog.vat.x_split__mutmut_2", "dropshop.catalog.vat.x_split__mutmut_3"}

    fresh, count = mutate.to_test(VERDICTS, ["dropshop.catalog.vat."], fresh=True, equivalent=equivalent)
    assert fresh == sorted(
        name for name in VERDICTS if name.startswith("dropshop.catalog.vat.") and name not in equivalent
    )
    assert count == 5
    kept, count = mutate.to_test(VERDICTS, ["dropshop.catalog.vat."], fresh=False, equivalent=equivalent)
    assert kept == [
        "dropshop.catalog.vat.x_split__mutmut_5",
        "dropshop.catalog.vat.x_split__mutmut_6",
        "dropshop.catalog.vat.x_split__mutmut_7",
    ]
    assert count == 3


def test_every_listed_equivalent_has_a_hash_of_its_diff_and_a_reason() -> None:
    listing = tomllib.loads(mutate.EQUIVALENTS.read_text())["equivalent"]

    assert len({entry["name"] for entry in listing}) == len(listing)
    for entry in listing:
        assert mutate.context_of(entry["name"]) in mutate.CONTEXTS, entry
        assert re.fullmatch("[0-9a-f]{12}", entry["diff"]), entry
        assert entry["reason"].strip(), entry


def test_a_context_with_every_verdict_final_is_not_run() -> None:
    done = {name: "killed" for name in VERDICTS}

    assert mutate.to_test(done, ["dropshop.catalog."], fresh=False, equivalent=set()) == ([], 0)


def test_every_context_shares_one_copy_and_other_modules_get_their_own() -> None:
    assert mutate.shared(["dropshop/catalog/vat.py", "dropshop/platform/json_depth.py", "dropshop/orders/"])
    assert not mutate.shared(["dropshop/catalog/vat.py", "dropshop/telemetry/service.py"])
    assert mutate.module_prefix("dropshop/platform/json_depth.py") == "dropshop.platform.json_depth."
    assert mutate.module_prefix("dropshop/orders/") == "dropshop.orders."


def test_mutmut_copies_only_the_modules_it_does_not_mutate(tmp_path: Path) -> None:
    """A module in mutmut's `also_copy` is copied over its mutants on every run, and all mutated again."""
    mutate.stage(tmp_path, [VAT, "dropshop/orders/"], TESTS, fresh=False)

    copied = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["mutmut"]["also_copy"]

    assert CURRENCIES in copied
    assert "dropshop/platform/json_body.py" in copied
    assert not [path for path in copied if path.startswith(("dropshop/orders/", VAT)) or path == "dropshop/"]


def test_a_fresh_copy_has_the_folder_of_every_file_mutmut_copies_as_it_is(tmp_path: Path) -> None:
    """mutmut copies each `also_copy` file with a bare `shutil.copy2` (its utils/file_utils.py), and makes folders
    only for the modules it mutates: a package with nothing mutated (`dropshop/realtime/`) needs its folder."""
    mutate.stage(tmp_path, [VAT], TESTS, fresh=True)

    copied = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["mutmut"]["also_copy"]
    files = [path for path in copied if path.startswith("dropshop/")]

    assert any(path.startswith("dropshop/realtime/") for path in files)
    assert [path for path in files if not (tmp_path / "mutants" / path).parent.is_dir()] == []


def test_a_context_is_tested_by_the_files_importing_it_not_those_naming_it_in_a_string() -> None:
    identity = mutate.importers(["dropshop/identity/"])

    assert "tests/unit/test_tokens.py" in identity
    # Names "dropshop.identity.tokens" to check a handler's imports in a subprocess; runs nothing of it in-process.
    assert "tests/unit/test_cold_start_imports.py" not in identity
    # Names mutants of every context in strings.
    assert "tests/unit/test_mutate_staging.py" not in mutate.importers(list(mutate.CONTEXTS.values()))


def test_each_function_keeps_the_traced_tests_of_its_own_contexts_files() -> None:
    traced = {
        "dropshop.catalog.vat.x_split": {"tests/unit/test_vat.py::test_a", "tests/unit/test_invoice_pdf.py::test_b"},
        "dropshop.orders.model.x_total": {"tests/unit/test_vat.py::test_a", "tests/unit/test_order_model.py::test_c"},
        "dropshop.telemetry.x_other": {"tests/unit/test_vat.py::test_a"},
    }

    own = {"dropshop.catalog.": ["tests/unit/test_vat.py"], "dropshop.orders.": ["tests/unit/test_order_model.py"]}
    mutate.narrow(traced, own)

    assert traced == {
        "dropshop.catalog.vat.x_split": {"tests/unit/test_vat.py::test_a"},
        "dropshop.orders.model.x_total": {"tests/unit/test_order_model.py::test_c"},
        "dropshop.telemetry.x_other": {"tests/unit/test_vat.py::test_a"},  # no context of make mutate's: as traced
    }
