"""moto's S3 with each object body on disk once, freed when its version goes: what big files through the local
stack need.

moto (5.2.5) keeps each body in a SpooledTemporaryFile, on disk above ~5 MiB (a deleted-but-open temporary file).
Two things multiplied them: ListObjectVersions deep-copies every stored version before listing it (to set
`is_latest` on the copies), and a deep copy of a key goes through its `__getstate__`/`__setstate__`, which read
the whole body and spool it again to a new file; and moto's BaseModel keeps every instance it ever made in its
class's `instances_tracked` (for its dashboard), so no copy and no deleted version is ever freed. The local stack
lists the data bucket's versions on every poll (its S3 → EventBridge events, tools/local/server.py): a 1 GiB
upload gained a 1 GiB temporary file per poll, ~90 GB of disk within half an hour (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any


class _Untracked(list[Any]):
    """An `instances_tracked` that keeps nothing: a key lives as long as its bucket (or a listing) holds it."""

    def append(self, _: Any) -> None:
        pass


def _keep_body(garbage: bool = False) -> None:
    """A listing's copy shares the original's body: closing it is the original's to do."""


def _listed_copy(key: Any, memo: dict[int, Any]) -> Any:
    """The copy ListObjectVersions makes of a key to mark `is_latest` on it: its attributes, the body shared."""
    clone = object.__new__(type(key))
    clone.__dict__.update(key.__dict__)
    clone.dispose = _keep_body
    memo[id(key)] = clone
    return clone


def store_bodies_once() -> None:
    """Patch moto's S3 keys in this process (moto's server: tools.local.moto_server)."""
    from moto.s3.models import FakeKey

    FakeKey.__deepcopy__ = _listed_copy  # type: ignore[attr-defined]
    FakeKey.instances_tracked = _Untracked()  # type: ignore[attr-defined]
