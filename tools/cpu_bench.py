"""CPU benchmark of the pipeline: records per second per core for the Transformer and the Writer, against the floor
of `json.loads` per line, on the same generated file.

    python -m tools.cpu_bench [--records 100000] [--rounds 3] [--against DIR]

Method (issue 23's): 100,000 generated account records (5 % invalid) as NDJSON and as one JSON array; each path
runs in a fresh process, only its loop is timed, in CPU time (a shared machine's wall time measures the
neighbours); every round runs every path once in a shuffled order, and the medians of the rounds are compared as
ratios to the floor's median from the same run, so the machine's noise falls on all alike.

- **the floor**: `json.loads` on each line of the NDJSON file, the file already in memory;
- **reader**: `streaming.records` alone (split, depth check, strict parse), NDJSON;
- **Transformer**: the function's own loop (`ingestion.service`): read, validate and normalise, pack into
  WriterQueue messages, refusals into LogTable items; the SQS and DynamoDB clients answer at once, so what is
  timed is the function's CPU, not the network;
- **Writer**: the Transformer's messages (packed before the clock starts) through `write_message`: decode,
  validate, AccountTable items (versions), with the DynamoDB client answering at once.

`--against DIR` compares two versions of the code in one run: DIR holds another checkout of the project (say
`git archive main | tar -x -C DIR`), every path runs on both, interleaved in one shuffled order per round, and every
ratio is to the median of both trees' floor runs.

Goal (issue 23): the Transformer at >= 100,000 valid records/s per core, <= 2x the floor.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tools.pipeline_bench import records

ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL = 2.0
RATE_GOAL = 100_000
PATHS = ("floor", "reader", "transformer", "transformer (JSON array)", "writer")


# ------------------------------------------------------------------ in the child process


class _Answering:
    """SQS and DynamoDB that take everything at once: the clock stops on the function's own work."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def send_message_batch(self, *, Entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self.messages += [entry["MessageBody"] for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}

    def batch_write_item(self, **_: Any) -> dict[str, Any]:
        return {"UnprocessedItems": {}}

    def batch_get_item(self, **_: Any) -> dict[str, Any]:  # LogTable holds no entry to withdraw
        return {"Responses": {}, "UnprocessedKeys": {}}

    def get_item(self, *, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        # FilesTable: the file registered, none of its valid records ever logged (the common case), so the Writer
        # looks up the file and skips LogTable's read, as it does on AWS.
        return {"Item": Key | {"validRecordsLogged": {"BOOL": False}}}


Loop = Callable[[], tuple[int, int]]  # what a path's timed loop returns: records read, records found valid


def _transform(data: bytes, client: _Answering) -> Loop:
    from dropshop.ingestion import service
    from dropshop.ingestion.error_log import ErrorLog
    from dropshop.ingestion.model import Origin
    from dropshop.ingestion.queue import QueueSender

    origin = Origin(kind="file", name="s3://bench/incoming/accounts", file_id="bench")

    def run() -> tuple[int, int]:
        transformation = service.Transformation(origin, QueueSender(client, "queue"), ErrorLog(client, "log"))
        transformation.ingest(io.BytesIO(data))
        return transformation.read, transformation.accepted

    return run


def _write(data: bytes) -> Loop:
    from dropshop.ingestion import service
    from dropshop.ingestion.messages import QueueMessage
    from dropshop.platform import aws

    client = _Answering()
    _transform(data, client)()  # the messages the Writer receives, packed before the clock starts
    aws.client = lambda *_, **__: client  # type: ignore[assignment]
    messages = [QueueMessage(f"m-{n}", body, source="file") for n, body in enumerate(client.messages)]

    packed = sum(body.count('"position":') for body in client.messages)

    def run() -> tuple[int, int]:
        for message in messages:
            service.write_message(message)
        return packed, packed

    return run


def _floor(data: bytes) -> Loop:
    lines = data.splitlines()

    def run() -> tuple[int, int]:
        for line in lines:
            json.loads(line)
        return len(lines), len(lines)

    return run


def _reader(data: bytes) -> Loop:
    from dropshop.platform import streaming

    def run() -> tuple[int, int]:
        read = sum(1 for _ in streaming.records(io.BytesIO(data)))
        return read, read

    return run


def child(path: str, ndjson: Path, array: Path) -> dict[str, float]:
    import logging

    logging.disable(logging.WARNING)  # Powertools metrics warn outside Lambda; nothing else is printed
    prepare: dict[str, Callable[[], Loop]] = {
        "floor": lambda: _floor(ndjson.read_bytes()),
        "reader": lambda: _reader(ndjson.read_bytes()),
        "transformer": lambda: _transform(ndjson.read_bytes(), _Answering()),
        "transformer (JSON array)": lambda: _transform(array.read_bytes(), _Answering()),
        "writer": lambda: _write(ndjson.read_bytes()),
    }
    run = prepare[path]()
    started = time.process_time()
    read, valid = run()
    return {"seconds": time.process_time() - started, "records": read, "valid": valid}


# ------------------------------------------------------------------ the parent


def _write_files(scratch: Path, count: int) -> tuple[Path, Path]:
    generated = [json.dumps(record) for record in records(count, invalid_share=0.05)]
    ndjson, array = scratch / "accounts.ndjson", scratch / "accounts.json"
    ndjson.write_text("".join(line + "\n" for line in generated))
    array.write_text("[" + ",".join(generated) + "]\n")
    return ndjson, array


def measure(
    count: int, rounds: int, paths: Iterable[str] = PATHS, trees: Iterable[Path] = (ROOT,)
) -> Iterator[tuple[Path, str, list[float], int, int]]:
    """(tree, path, CPU seconds of its loop in each round, records, valid records) per tree and path."""
    with tempfile.TemporaryDirectory() as scratch:
        ndjson, array = _write_files(Path(scratch), count)
        seconds: dict[tuple[Path, str], list[float]] = {(tree, path): [] for tree in trees for path in paths}
        counted: dict[tuple[Path, str], tuple[int, int]] = {}
        order = list(seconds)
        for _ in range(rounds):
            random.shuffle(order)
            for tree, path in order:
                command = [sys.executable, "-m", "tools.cpu_bench", "--child", path, str(ndjson), str(array)]
                result = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)  # noqa: S603
                if result.returncode:
                    raise RuntimeError(result.stderr[-3000:])
                measured = json.loads(result.stdout.strip().splitlines()[-1])
                seconds[tree, path].append(measured["seconds"])
                counted[tree, path] = int(measured["records"]), int(measured["valid"])
        for tree, path in seconds:
            yield tree, path, seconds[tree, path], *counted[tree, path]


def _verdict(path: str, ratio: float, valid_rate: float) -> str:
    if path != "transformer":
        return ""
    return " ok" if ratio <= RATIO_GOAL and valid_rate >= RATE_GOAL else " (over)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="DIR", help="another checkout of the project, measured in the same run")
    parser.add_argument("--child", nargs=3, metavar=("PATH", "NDJSON", "ARRAY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]
    if args.child:
        path, ndjson, array = args.child
        print(json.dumps(child(path, Path(ndjson), Path(array))))
        return 0

    print(f"CPU path, {args.records:,} records (5 % invalid), fresh process per path, medians of {args.rounds} rounds:")
    if args.against:
        _compare(args.records, args.rounds, Path(args.against).resolve())
    else:
        print("| path | records/s per core | valid records/s | x `json.loads` per line |")
        print("| --- | ---: | ---: | ---: |")
        results = list(measure(args.records, args.rounds))
        floor = statistics.median(results[0][2])
        for _, path, seconds, count, valid in results:
            median = statistics.median(seconds)
            ratio = median / floor
            verdict = _verdict(path, ratio, valid / median)
            print(f"| {path} | {count / median:,.0f} | {valid / median:,.0f} | {ratio:.2f}{verdict} |")
    print(f"(goal, the Transformer on NDJSON: >= {RATE_GOAL:,} valid records/s and <= {RATIO_GOAL}x the floor)")
    return 0


def _compare(count: int, rounds: int, before: Path) -> None:
    """Every path on `before` and on this tree in one run; ratios to the median of both trees' floor runs."""
    print(f"before: {before}; after: {ROOT}")
    print("| path | before: records/s (valid) | x `json.loads` | after: records/s (valid) | x `json.loads` |")
    print("| --- | ---: | ---: | ---: | ---: |")
    measured = measure(count, rounds, trees=(before, ROOT))
    results = {(tree, path): (seconds, records, valid) for tree, path, seconds, records, valid in measured}
    floor = statistics.median(results[before, "floor"][0] + results[ROOT, "floor"][0])
    for path in PATHS:
        cells = []
        for tree in (before, ROOT):
            seconds, records, valid = results[tree, path]
            median = statistics.median(seconds)
            ratio = median / floor
            verdict = _verdict(path, ratio, valid / median) if tree == ROOT else ""
            cells.append(f"{records / median:,.0f} ({valid / median:,.0f}) | {ratio:.2f}{verdict}")
        print(f"| {path} | {' | '.join(cells)} |")


if __name__ == "__main__":
    sys.exit(main())
