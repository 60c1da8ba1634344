"""Where the Transformer's CPU time goes, stage by stage, against the floor in the same process.

    python -m tools.cpu_stages [--records 30000] [--rounds 7]

`tools.cpu_bench` times whole paths, each in a fresh process; this takes the Transformer apart on the same
generated records (5 % invalid) and times each stage's loop in one process, interleaved with the floor's
(`json.loads` per line of the file read as text) in a shuffled order every round, so that a loaded machine's
noise falls on all alike. Each row: µs of CPU time per record the stage handles, best and median of the rounds,
and the best over the floor's best line. The stages:

- **reader**: `streaming.records` splitting the file into lines, with their byte offsets, through its generators
  (each line handed on as it is, nothing parsed);
- **one-pass reading** (`accounts.compiled.read`) of a valid record, and of a refused one (read as sure, with
  its excerpt);
- **packing** a valid record into a WriterQueue message;
- **a refusal logged**: `Transformation.take` of a record read as refused (its `Rejection`, its LogTable item with
  its key, the batch; DynamoDB answering at once);
- the **Transformer** path whole (as `tools.cpu_bench` times it), with no invalid record and with 5 %.

The stages alone are faster than within the whole path (their code and data stay in the caches): the whole
path's row is the one to hold against the goal (<= 2x the floor, issue 23).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tools.cpu_bench import Answering, floor_loop, load_average, transform_loop
from tools.pipeline_bench import records

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "floor: json.loads per line of the text file"
Stage = tuple[Callable[[], object], int]  # a loop, and how many records it handles


def stages(count: int) -> dict[str, Stage]:
    from dropshop.accounts import compiled
    from dropshop.ingestion import service
    from dropshop.ingestion.error_log import ErrorLog
    from dropshop.ingestion.messages import MessagePacker
    from dropshop.ingestion.model import Origin
    from dropshop.ingestion.queue import QueueSender
    from dropshop.platform import streaming

    origin = Origin(kind="file", name="s3://bench/incoming/accounts", file_id="bench")
    data = "".join(json.dumps(record) + "\n" for record in records(count, invalid_share=0.05)).encode()
    clean = "".join(json.dumps(record) + "\n" for record in records(count, invalid_share=0.0)).encode()
    read = [(line, compiled.read(line)) for line in data.splitlines()]
    valid = [line for line, record in read if isinstance(record, compiled.Fields)]
    refused = [line for line, record in read if isinstance(record, compiled.Refused)]
    packed = list(enumerate(record for _, record in read if isinstance(record, compiled.Fields)))
    taken = list(enumerate(record for _, record in read if isinstance(record, compiled.Refused)))

    def reader() -> None:
        for _ in streaming.records(io.BytesIO(data), parse=bytes):
            pass

    def reading(chosen: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            for line in chosen:
                compiled.read(line)

        return run

    def packing() -> None:
        packer = MessagePacker(origin)
        for position, record in packed:
            packer.add(position, record)
        list(packer.flush())

    def refusals() -> None:
        run = service.Transformation(origin, QueueSender(Answering(), "queue"), ErrorLog(Answering(), "log"))
        for position, record in taken:
            run.take(position, record)
        run.finish()

    return {
        FLOOR: (floor_loop(data), count),
        "reader (split, byte offsets, generators)": (reader, count),
        "one-pass reading, a valid record": (reading(valid), len(valid)),
        "one-pass reading, a refused record (with its excerpt)": (reading(refused), len(refused)),
        "packing, a valid record": (packing, len(packed)),
        "a refusal logged (Rejection, LogTable item, batch)": (refusals, len(taken)),
        "the Transformer path, no invalid record": (transform_loop(clean, Answering()), count),
        "the Transformer path, 5 % invalid": (transform_loop(data, Answering()), count),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "shared")]
    logging.disable(logging.WARNING)  # Powertools metrics warn outside Lambda
    measured = stages(args.records)
    for run, _ in measured.values():
        run()  # a warm-up
    seconds: dict[str, list[float]] = {name: [] for name in measured}
    order = list(measured)
    for _ in range(args.rounds):
        random.shuffle(order)
        for name in order:
            run, _ = measured[name]
            started = time.process_time()
            run()
            seconds[name].append(time.process_time() - started)
    floor = min(seconds[FLOOR]) / args.records
    load = load_average(os.getloadavg())
    print(f"{args.records:,} records (5 % invalid), {args.rounds} rounds in one process, load average {load}")
    print("| stage | µs per record, best | median | x the floor's line (best) |")
    print("| --- | ---: | ---: | ---: |")
    for name, (_, handled) in measured.items():
        best, median = min(seconds[name]) / handled, statistics.median(seconds[name]) / handled
        print(f"| {name} | {best * 1e6:.2f} | {median * 1e6:.2f} | {best / floor:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
