"""CPU benchmark of the pipeline: records per second per core for the Transformer and the Writer, against the floor
of `json.loads` per line, on the same generated file.

    python -m tools.cpu_bench [--records 100000] [--rounds 3] [--against DIR] [--only PATH ...]

Method (issue 23's): 100,000 generated account records (5 % invalid) as NDJSON and as one JSON array; each path
runs in a fresh process, first over the file's first tenth (a warm-up: lazy imports, compiled patterns, the
allocator's arenas), then over the whole file, and only that loop is timed, in CPU time (a shared machine's wall
time measures the neighbours); every round runs every path once in a shuffled order. A path's rate is the median
of its rounds, its spread the slowest and fastest round. Its ratio to the floor, from the same run, is given three
ways: median over median (issue 23's, on which the goal is judged), fastest round over the floor's fastest (a
neighbour only ever adds CPU time, so these are the least disturbed), and the range of each round's time over the
same round's floor: the machine's noise falls on all alike, and what is left of it is shown.

- **the floor**: `json.loads` on each line of the file read as UTF-8 text (`for line in text_file`), from the same
  bytes in memory the reader gets: what a plain Python program does with an NDJSON file;
- two references for it: `json.loads` alone on the lines already decoded and split (`str`), and on the lines as
  `bytes` (json then detects the encoding in Python and decodes each line: the floor before 2026-12-07);
- **reader**: `streaming.records` alone (split, depth check, strict parse), NDJSON;
- **Transformer**: the function's own loop (`ingestion.service`): read, validate and normalise, pack into
  WriterQueue messages, refusals into LogTable items; the SQS and DynamoDB clients answer at once, so what is
  timed is the function's CPU, not the network;
- **Writer**: the Transformer's messages (packed before the clock starts) through `write_message`: decode,
  validate, AccountTable items (versions), with the DynamoDB client answering at once.

The load average is printed before and after the run, and the run's wall time. `--only PATH` (repeated) measures
those paths and the floor alone.

`--against DIR` compares two versions of the code in one run: DIR holds another checkout of the project (say
`git archive main | tar -x -C DIR`), every path runs on both (this tree's bench code, DIR's layer), interleaved in
one shuffled order per round, and every ratio is to the median of both trees' floor runs.

Goal (issue 23): the Transformer at >= 100,000 valid records/s per core, <= 2x the floor.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.pipeline_bench import records

ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL = 2.0
RATE_GOAL = 100_000
FLOOR = "floor: json.loads per line of the text file"
PATHS = (
    FLOOR,
    "json.loads on pre-split str lines",
    "json.loads on bytes lines",
    "reader",
    "transformer",
    "transformer (JSON array)",
    "writer",
)
WARM_UP_SHARE = 10  # the warm-up reads the first 1/10 of the records


# ------------------------------------------------------------------ in the child process


class Answering:
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


def transform_loop(data: bytes, client: Answering) -> Loop:
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

    client = Answering()
    transform_loop(data, client)()  # the messages the Writer receives, packed before the clock starts
    aws.client = lambda *_, **__: client  # type: ignore[assignment]
    messages = [QueueMessage(f"m-{n}", body, source="file") for n, body in enumerate(client.messages)]

    packed = sum(body.count('"position":') for body in client.messages)

    def run() -> tuple[int, int]:
        for message in messages:
            service.write_message(message)
        return packed, packed

    return run


def floor_loop(data: bytes) -> Loop:
    def run() -> tuple[int, int]:
        read = 0
        for line in io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"):
            json.loads(line)
            read += 1
        return read, read

    return run


def _loads_each(lines: list[str] | list[bytes]) -> Loop:
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


_PREPARE: dict[str, Callable[[bytes], Loop]] = {
    FLOOR: floor_loop,
    "json.loads on pre-split str lines": lambda data: _loads_each(data.decode().splitlines()),
    "json.loads on bytes lines": lambda data: _loads_each(data.splitlines()),
    "reader": _reader,
    "transformer": lambda data: transform_loop(data, Answering()),
    "transformer (JSON array)": lambda data: transform_loop(data, Answering()),
    "writer": _write,
}


def child(path: str, files: Path) -> dict[str, float]:
    import logging

    logging.disable(logging.WARNING)  # Powertools metrics warn outside Lambda; nothing else is printed
    name = "accounts.json" if path == "transformer (JSON array)" else "accounts.ndjson"
    _PREPARE[path]((files / "warm-up" / name).read_bytes())()
    run = _PREPARE[path]((files / name).read_bytes())
    started = time.process_time()
    read, valid = run()
    return {"seconds": time.process_time() - started, "records": read, "valid": valid}


# ------------------------------------------------------------------ the parent


def _write_files(directory: Path, generated: list[str]) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "accounts.ndjson").write_text("".join(line + "\n" for line in generated))
    (directory / "accounts.json").write_text("[" + ",".join(generated) + "]\n")


@dataclass(frozen=True)
class Measured:
    tree: Path
    path: str
    seconds: list[float]  # CPU seconds of the loop, one per round, in the rounds' order
    records: int
    valid: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(count: int, rounds: int, paths: Iterable[str] = PATHS, trees: Iterable[Path] = (ROOT,)) -> list[Measured]:
    """Every path on every tree, `rounds` times, each run in a fresh process, in one shuffled order per round."""
    with tempfile.TemporaryDirectory() as scratch:
        generated = [json.dumps(record) for record in records(count, invalid_share=0.05)]
        _write_files(Path(scratch), generated)
        _write_files(Path(scratch) / "warm-up", generated[: max(1, count // WARM_UP_SHARE)])
        seconds: dict[tuple[Path, str], list[float]] = {(tree, path): [] for tree in trees for path in paths}
        counted: dict[tuple[Path, str], tuple[int, int]] = {}
        order = list(seconds)
        for _ in range(rounds):
            random.shuffle(order)
            for tree, path in order:
                command = [sys.executable, "-m", "tools.cpu_bench", "--child", path, scratch, "--tree", str(tree)]
                result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
                if result.returncode:
                    raise RuntimeError(result.stderr[-3000:])
                measured = json.loads(result.stdout.strip().splitlines()[-1])
                seconds[tree, path].append(measured["seconds"])
                counted[tree, path] = int(measured["records"]), int(measured["valid"])
    return [Measured(tree, path, seconds[tree, path], *counted[tree, path]) for tree, path in seconds]


def _verdict(path: str, ratio: float, valid_rate: float) -> str:
    if path != "transformer":
        return ""
    return " ok" if ratio <= RATIO_GOAL and valid_rate >= RATE_GOAL else " (over)"


def _rate(measured: Measured) -> str:
    """The median rate, its valid records, and the slowest and fastest rounds."""
    rate, valid = measured.records / measured.median, measured.valid / measured.median
    slowest, fastest = measured.records / max(measured.seconds), measured.records / min(measured.seconds)
    return f"{rate:,.0f} ({valid:,.0f}) | {slowest:,.0f} to {fastest:,.0f}"


def _ratio(measured: Measured, floor: list[float], verdict: bool) -> str:
    """Median over the floor's median (issue 23's ratio); fastest round over the floor's fastest (a neighbour only
    ever adds CPU time, so the fastest rounds are the least disturbed); the range of each round's time over the
    same round's floor."""
    ratio = measured.median / statistics.median(floor)
    best = min(measured.seconds) / min(floor)
    rounds = [seconds / floor_seconds for seconds, floor_seconds in zip(measured.seconds, floor, strict=True)]
    mark = _verdict(measured.path, ratio, measured.valid / measured.median) if verdict else ""
    return f"{ratio:.2f}{mark} | {best:.2f} | {min(rounds):.2f} to {max(rounds):.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="DIR", help="another checkout of the project, measured in the same run")
    parser.add_argument(
        "--only", metavar="PATH", action="append", choices=PATHS[1:], help="measure this path (and the floor) alone"
    )
    parser.add_argument("--child", nargs=2, metavar=("PATH", "FILES"), help=argparse.SUPPRESS)
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path[:0] = [str(Path(args.tree) / "layers" / "shared")]
        path, files = args.child
        print(json.dumps(child(path, Path(files))))
        return 0

    started, load = time.monotonic(), os.getloadavg()
    print(
        f"CPU path, {args.records:,} records (5 % invalid), fresh process per path (after a warm-up on the first "
        f"tenth), CPU time of the loop, {args.rounds} shuffled rounds; load average {load_average(load)} at the start"
    )
    paths = [path for path in PATHS if path == FLOOR or not args.only or path in args.only]
    if args.against:
        _compare(args.records, args.rounds, Path(args.against).resolve(), paths)
    else:
        print(
            "| path | records/s per core, median (valid) | slowest to fastest round | x the floor, medians | "
            "x the floor, fastest rounds | x the floor, each round |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        results = measure(args.records, args.rounds, paths)
        floor = results[0].seconds
        for measured in results:
            print(f"| {measured.path} | {_rate(measured)} | {_ratio(measured, floor, verdict=True)} |")
    print(f"(goal, the Transformer on NDJSON: >= {RATE_GOAL:,} valid records/s and <= {RATIO_GOAL}x the floor)")
    print(f"load average {load_average(os.getloadavg())} at the end; the run took {time.monotonic() - started:.0f} s")
    return 0


def load_average(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{minutes:.2f}" for minutes in load) + " (1, 5, 15 min)"


def _compare(count: int, rounds: int, before: Path, paths: list[str]) -> None:
    """Every path on `before` and on this tree in one run; ratios to the median of both trees' floor runs."""
    print(f"before: {before}; after: {ROOT}")
    print("| path | before: records/s (valid) | x `json.loads` | after: records/s (valid) | x `json.loads` |")
    print("| --- | ---: | ---: | ---: | ---: |")
    measured_runs = measure(count, rounds, paths, trees=(before, ROOT))
    results = {(measured.tree, measured.path): measured for measured in measured_runs}
    floors = results[before, FLOOR].seconds + results[ROOT, FLOOR].seconds
    floor = statistics.median(floors)
    for path in paths:
        cells = []
        for tree in (before, ROOT):
            measured = results[tree, path]
            ratio = measured.median / floor
            verdict = _verdict(path, ratio, measured.valid / measured.median) if tree == ROOT else ""
            rate = f"{measured.records / measured.median:,.0f} ({measured.valid / measured.median:,.0f})"
            cells.append(f"{rate} | {ratio:.2f}{verdict}")
        print(f"| {path} | {' | '.join(cells)} |")


if __name__ == "__main__":
    sys.exit(main())
