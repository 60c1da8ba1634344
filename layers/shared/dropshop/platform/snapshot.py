"""Lambda SnapStart (the template's SnapStart parameter): many environments resume from one initialised snapshot,
so whatever init left behind that must differ between environments is refreshed after each restore.

What init leaves behind here, and why only one thing needs refreshing:
- `random`'s state: botocore's retry jitter and our DynamoDB backoff draw from it. Restored environments would
  draw the same "random" delays and retry in lockstep, so it is reseeded from the OS after every restore.
- AWS clients: created during init, but they make no request then, so no pooled connection is captured; their
  credentials come from the runtime's refreshable provider and are fetched when first needed.
- Unique ids (uuid4, X-Ray segment ids) come from os.urandom at the moment they are made, never from init.
"""

from __future__ import annotations

import random
from functools import cache


def reseed_random() -> None:
    random.seed()  # from os.urandom: every restored environment draws its own sequence


@cache  # once per process
def refresh_after_restore() -> None:
    """Register the refresh with the runtime's SnapStart hooks. Lambda's Python runtimes ship the hook library;
    where it is absent (tests, the local stack) no snapshot is ever restored, so there is nothing to register."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return
    register_after_restore(reseed_random)
