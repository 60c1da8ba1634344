"""A file that breaks off counts the records it really had before the break: recordsRead = recordsAccepted +
recordsRejected, each the records of that kind, and the one LogTable entry for the break is no record."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from tests.integration.pipeline.records import BREAKAGES, FILE_ONLY_BREAKAGES, Sample, samples
from tests.integration.pipeline.settled import file_entry, file_origin, refusals, stored
from tests.integration.pipeline.test_properties import UPLOADS, reset
from tests.support.positions import array_positions
from tests.support.properties import budget
from tools.local.stack import Stack
from tools.local.wiring import Wiring

# After a complete array: what makes the file unreadable from there on.
TRAILERS = st.sampled_from([b" junk", b"]", b"[1]", b"\x00", b", {}"])


@st.composite
def broken_off_files(draw: st.DrawFn) -> tuple[bytes, list[Sample], int]:
    """A JSON array's bytes that break off, the records complete before the break, and the break's position."""
    records = samples(
        draw(st.integers(1, 12)),
        invalid_share=draw(st.sampled_from([0.0, 0.3, 1.0])),
        accounts=5,
        seed=draw(st.integers(0, 2**16)),
        breakages=BREAKAGES + FILE_ONLY_BREAKAGES,
    )
    items = [json.dumps(s.record).encode() for s in records]
    if draw(st.booleans()):  # data after the closing bracket: every record was read; the break is after it
        whole = b"[" + b", ".join(items) + b"]"
        return whole + draw(TRAILERS), records, len(whole)
    # Cut within record `broken` (anywhere from before its first byte to just before its comma or bracket): the
    # break is at its first byte.
    broken = draw(st.integers(0, len(items) - 1))
    cut = draw(st.integers(0, len(items[broken])))
    before = b"[" + b"".join(item + b", " for item in items[:broken])
    return before + items[broken][:cut], records[:broken], len(before)


@budget(examples=12)
@given(file=broken_off_files())
@example(file=(b'[{"id": "acc-1"}, {"id": "acc-2", "na', [Sample({"id": "acc-1"}, valid=False)], 18))
@example(file=(b"[", [], 1))
def test_a_broken_off_file_counts_only_the_records_before_the_break(
    stack: Stack, wiring: Wiring, file: tuple[bytes, list[Sample], int]
) -> None:
    reset(stack, wiring)
    data, complete, break_at = file
    key = f"incoming/broken-off-{next(UPLOADS)}.json"
    wiring.upload(key, data)
    wiring.drain()

    entry = file_entry(stack, key)
    assert entry["status"]["S"] == "FAILED"
    read, accepted, rejected = (int(entry[name]["N"]) for name in ("recordsRead", "recordsAccepted", "recordsRejected"))
    assert read == len(complete)
    assert read == accepted + rejected
    assert rejected == sum(1 for s in complete if not s.valid)
    # LogTable: each refused record, plus the one entry where reading stopped.
    logged = {position for origin, position in refusals(stack) if origin == file_origin(stack, key)}
    positions = array_positions([s.record for s in complete])
    refused_positions = {p for p, s in zip(positions, complete, strict=True) if not s.valid}
    assert logged == refused_positions | {break_at}
    assert stored(stack) == {s.key for s in complete if s.valid}
