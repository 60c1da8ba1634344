"""SnapStart: environments restored from one snapshot do not share what init left in `random`."""

from __future__ import annotations

import random

import snapshot_restore_py

from dropshop.platform import aws, snapshot


def restore_from(state: object) -> list[float]:
    """What one environment restored from the snapshot draws first: the runtime runs the after-restore hooks."""
    random.setstate(state)  # type: ignore[arg-type]
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)
    return [random.random() for _ in range(4)]  # noqa: S311 - the jitter under test, not a secret


def test_the_first_client_registers_the_reseed_with_the_runtime() -> None:
    aws._session.cache_clear()
    aws._session()
    assert any(hook is snapshot.reseed_random for hook, _, _ in snapshot_restore_py.get_after_restore())


def test_two_restored_environments_draw_different_jitter() -> None:
    snapshot.refresh_after_restore()
    random.seed(20261201)  # whatever init left behind, frozen in the snapshot
    frozen = random.getstate()
    assert restore_from(frozen) != restore_from(frozen)
