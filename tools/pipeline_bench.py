"""Pipeline benchmark: AWS requests per 1,000 records, records per second, Transformer memory, big files.

    python -m tools.pipeline_bench [--records 10000] [--big-mb 100] [--chunked-mb 64] [--chunk-mb 8]
    python -m tools.pipeline_bench --only-big-files --chunked-mb 1024 --chunk-mb 32   # the full-size run

1. End to end on moto (in-process), wired by template.yaml (tools/local): a JSON file of `--records`
   records (5 % invalid) is uploaded, registered, transformed, written; queues drained. Every botocore
   call the functions make is counted; the SQS polling Lambda's event source mappings do on AWS is
   counted apart. Goal: <= 60 function requests per 1,000 records (one PutItem and one SendMessage per
   record, the naive design, needs ~2,000).
2. The Transformer alone, in a fresh process against moto's server, on a 1 MB and a `--big-mb` file, the
   big file gzip-compressed, and hostile files (nested 20,000 deep as an array item and as an NDJSON line,
   integers of 5,000 digits and beyond 64 bits, gzip bombs of spaces and of newlines: ~1 MiB that expands to
   1.1 GiB, past INGEST_MAX_BYTES): peak RSS (VmHWM) after the run minus the peak after init. A file the
   Transformer plans into chunks (above INGEST_CHUNK_BYTES; a gzip file decompressed into staged parts) is
   ingested to its end: each chunk through TransformerChunkFunction's handler, one after another in the same
   process (a warm container), so the row is the file's ingestion, not its planning.
   Goal: <= 64 MiB over baseline for each, and no more for 100 MB than for the small file: files are
   streamed, never loaded; a bomb is failed in seconds, not read until the timeout.
3. Big files through the local stack (`make local`'s LocalStack on moto's server, functions in worker
   processes): an NDJSON file of `--chunked-mb` (records padded with a field the pipeline drops, so that
   moto's tables stay small) split into INGEST_CHUNK_BYTES chunks, with 1 and with 4 chunk workers, and the
   same records gzip-compressed (decompressed into staged parts, then in chunks): wall time from upload to the
   file's final status and empty queues, the load average, peak RSS (VmHWM) of each worker that ran, the
   functions' AWS requests per 1,000 records (counted by moto's server, tools/local/moto_requests.py), and
   the peak of moto's S3 bodies on disk. And on moto in-process, as in 1., the AWS requests per 1,000 records
   of an NDJSON file split into chunks. Goal: <= 60, as for whole files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tools.bombs import gzip_bomb

ROOT = Path(__file__).resolve().parents[1]
REQUESTS_GOAL = 60
MEMORY_GOAL_MIB = 64
REGION = "eu-west-1"
START = datetime(2026, 11, 24, tzinfo=UTC)


def records(count: int, *, invalid_share: float, seed: int = 1) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    for i in range(count):
        record: dict[str, Any] = {
            "id": f"acc-{rng.randrange(count // 2 + 1):07d}",
            "name": f"Customer {i}",
            "email": f"customer.{i}@example.com",
            "status": rng.choice(["active", "suspended", "closed"]),
            "balanceCents": rng.randrange(-100_000, 10_000_000),
            "currency": "EUR",
            "updatedAt": (START + timedelta(seconds=rng.randrange(86_400))).isoformat(),
        }
        if rng.random() < invalid_share:
            record["email"] = "not-an-email"
        yield record


def write_json_array(path: Path, *, target_bytes: int | None = None, count: int | None = None) -> int:
    """Stream records into a JSON array file until it holds `count` records or reaches `target_bytes`."""
    written = 0
    with path.open("w") as out:
        out.write("[")
        for record in records(count or 10**9, invalid_share=0.05):
            out.write(("," if written else "") + json.dumps(record))
            written += 1
            if target_bytes and out.tell() >= target_bytes:
                break
        out.write("]\n")
    return written


def _aws_environment() -> None:
    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}  # moto accepts any
    os.environ.update(credentials, AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION)
    os.environ.pop("AWS_PROFILE", None)


# ------------------------------------------------------------------ 1. requests and throughput


def write_ndjson(path: Path, *, count: int | None = None, target_bytes: int | None = None, padding: int = 0) -> int:
    """NDJSON records (5 % invalid), each with a `padding` field of that many bytes (unknown fields are
    dropped), until `count` records or `target_bytes`."""
    written = 0
    pad = "x" * padding
    with path.open("w") as out:
        for record in records(count or 10**9, invalid_share=0.05):
            out.write(json.dumps(record | ({"padding": pad} if padding else {})) + "\n")
            written += 1
            if target_bytes and out.tell() >= target_bytes:
                break
    return written


def end_to_end(count: int, *, chunks: int = 0) -> dict[str, float]:
    """`chunks` > 0: the records as NDJSON, split into about that many chunks (INGEST_CHUNK_BYTES)."""
    import boto3
    from moto import mock_aws

    from tools.local.stack import provision
    from tools.local.wiring import Wiring

    _aws_environment()
    with mock_aws(), tempfile.TemporaryDirectory() as scratch:
        stack = provision(boto3.session.Session(region_name=REGION))
        for function in stack.of_type("AWS::Serverless::Function"):
            os.environ.update(stack.environment(function))
        # One process, one Metrics for every function: named after the benchmark, not the last function read.
        os.environ["POWERTOOLS_SERVICE_NAME"] = "pipeline-bench"
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        # Imported once the functions' environment is set, as on Lambda (Powertools reads it at import).
        from dropshop.platform import aws, settings

        path = Path(scratch) / ("accounts.ndjson" if chunks else "accounts.json")
        if chunks:
            write_ndjson(path, count=count)
            os.environ["INGEST_CHUNK_BYTES"] = str(path.stat().st_size // chunks + 1)
        else:
            write_json_array(path, count=count)
        for cached in (settings.settings, aws.client, aws._session):  # a cold start for each run
            cached.cache_clear()

        calls: Counter[str] = Counter()
        aws._session().register("before-call", lambda model, **_: calls.update([model.name]))
        polls: Counter[str] = Counter()
        stack.session.events.register("before-call.sqs", lambda model, **_: polls.update([model.name]))

        started = time.perf_counter()
        Wiring(stack).upload(f"incoming/{path.name}", path.read_bytes())
        Wiring(stack).drain()
        elapsed = time.perf_counter() - started
    function_calls = sum(calls.values())
    return {
        "records": count,
        "seconds": elapsed,
        "function_requests": function_calls,
        "event_source_requests": sum(n for name, n in polls.items() if name != "SendMessage"),
        "by_operation": dict(calls.most_common()),  # type: ignore[dict-item]
    }


# ------------------------------------------------------------------ 2. Transformer memory

CHILD = """
import hashlib, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import handlers.transformer.app as app
import handlers.transformer_chunk.app as chunk_app
from dropshop.files import service as files
from dropshop.files.model import file_id
from dropshop.platform import aws
from dropshop.platform.s3_events import created_object
from dropshop.platform.settings import settings
for service in ("s3", "sqs", "dynamodb"):
    aws.client(service)
from tools.local.lambda_context import LambdaContext
event = json.loads(sys.argv[3])
baseline = peak_kib()
result = app.lambda_handler(event, LambdaContext(function_name="TransformerFunction"))
chunks = failed = 0
if "chunks" in result["ingestion"]:
    # A file planned into chunks (a gzip file staged, a big file split): each chunk as ChunkQueue hands it to
    # TransformerChunkFunction, one after another in this process, as in one warm container.
    sqs, queue = aws.client("sqs"), settings().chunk_queue_url
    while messages := sqs.receive_message(QueueUrl=queue, AttributeNames=["All"]).get("Messages"):
        (message,) = messages
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "bench",
                           "ApproximateFirstReceiveTimestamp": "0"},
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:ChunkQueue",
            "awsRegion": "eu-west-1",
        }
        context = LambdaContext(function_name="TransformerChunkFunction")
        answer = chunk_app.lambda_handler({"Records": [record]}, context)
        failed += len(answer.get("batchItemFailures", []))
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        chunks += 1
upload = created_object(event)
stored = files.get_file(file_id(upload.bucket, upload.key, upload.etag))
counts = stored.ingestion.as_dict() if stored.ingestion else {"recordsRead": 0, "accepted": 0, "rejected": 0}
result["ingestion"] = counts | {"status": stored.status.value, "chunks": chunks, "chunksFailed": failed}
print(json.dumps({"baseline_kib": baseline, "peak_kib": peak_kib(), "result": result}))
"""


def hostile_files(scratch: Path, big: Path) -> list[tuple[str, Path]]:
    """Files written to hurt a parser: (what it is, where it is)."""
    deep_array = scratch / "deep.json"
    deep_array.write_bytes(b"[" + b"[" * 20_000 + b"]" * 20_000 + b"]")
    deep_line = scratch / "deep.ndjson"
    deep_line.write_bytes(b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"\n")
    huge_integers = scratch / "huge-integers.json"
    with huge_integers.open("w") as out:
        out.write("[")
        for i, record in enumerate(records(2_000, invalid_share=0.0)):
            digits = "1" + "0" * 5_000 if i % 2 else str(2**70)
            out.write(("," if i else "") + json.dumps(record)[:-1] + f', "balanceCents": {digits}}}')
        out.write("]")
    bombs = []
    for name, padding in (("spaces", b" "), ("newlines", b"\n")):
        bomb = scratch / f"bomb-of-{name}.ndjson.gz"
        bomb.write_bytes(gzip_bomb(b"", padding, 1100 * 2**20))
        bombs.append((f"gzip bomb: 1.1 GiB of {name}", bomb))
    compressed = scratch / f"{big.name}.gz"
    with big.open("rb") as source, gzip.open(compressed, "wb", compresslevel=1) as target:
        shutil.copyfileobj(source, target)
    return [
        ("nested 20,000 deep (array item)", deep_array),
        ("nested 20,000 deep (NDJSON line)", deep_line),
        ("integers of 5,000 digits / beyond 64 bits", huge_integers),
        (f"{big.stat().st_size / 2**20:.0f} MB gzip-compressed", compressed),
        *bombs,
    ]


def transformer_memory(sizes_mb: list[int]) -> Iterator[dict[str, Any]]:
    """One result per file, as soon as it is measured."""
    import boto3

    from tools.local.moto_server import moto_server
    from tools.local.stack import provision
    from tools.local.wiring import Wiring

    _aws_environment()
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as scratch:
        stack = provision(boto3.session.Session(region_name=REGION), endpoint_url=endpoint)
        env = {
            **os.environ,
            **stack.environment("TransformerChunkFunction"),
            **stack.environment("TransformerFunction"),
            "AWS_ENDPOINT_URL": endpoint,
        }
        env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        wiring = Wiring(stack)
        s3 = stack.client("s3")
        files: list[tuple[str, Path]] = []
        for size in sizes_mb:
            path = Path(scratch) / f"accounts-{size}mb.json"
            write_json_array(path, target_bytes=size * 1024 * 1024)
            files.append((f"{path.stat().st_size / 2**20:.0f} MB", path))
        files += hostile_files(Path(scratch), files[-1][1])
        sqs = stack.client("sqs")
        for n, (name, path) in enumerate(files):
            key = f"incoming/{path.name}"
            s3.upload_file(str(path), stack.physical["DataBucket"], key)
            event = wiring.object_created_event(stack.physical["DataBucket"], key)
            command = [sys.executable, "-c", CHILD, str(ROOT / "layers" / "shared"), str(ROOT), json.dumps(event)]
            # Nobody writes in this part: a queue of its own per file, so that the messages of the files before
            # do not slow moto's SQS, which scans every stored message on each request (FACTS.md).
            writer_queue = sqs.create_queue(QueueName=f"bench-writer-queue-{n}")["QueueUrl"]
            started = time.perf_counter()
            child = subprocess.run(  # noqa: S603
                command, env=env | {"WRITER_QUEUE_URL": writer_queue}, capture_output=True, text=True, check=False
            )
            sqs.delete_queue(QueueUrl=writer_queue)
            if child.returncode:
                raise RuntimeError(child.stderr[-3000:])
            measured = json.loads(child.stdout.strip().splitlines()[-1])
            yield {
                "file": name,
                "size_mb": path.stat().st_size / 2**20,
                "seconds": time.perf_counter() - started,
                "over_baseline_mib": (measured["peak_kib"] - measured["baseline_kib"]) / 1024,
                "baseline_mib": measured["baseline_kib"] / 1024,
                "ingestion": measured["result"]["ingestion"],
            }


# ------------------------------------------------------------------ 3. big files through the local stack

PADDING_BYTES = 3_000  # ~3.2 KB a record: 1 GB is ~330,000 records, which moto's tables hold


def through_local_stack(path: Path, key: str, *, workers: int, chunk_bytes: int) -> dict[str, Any]:
    """Upload `path` to a fresh local stack whose functions run `workers` workers at most; wait until the
    file's status is final and every pipeline queue is empty."""
    from tools.local.server import LocalStack

    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(
            port=0,
            aws_port=0,
            seed=False,
            state_dir=Path(state),
            log=lambda _: None,
            parameters={"IngestChunkBytes": str(chunk_bytes)},
        )
        stack.concurrency = workers
        stack.start()
        try:
            assert stack.stack is not None
            s3, sqs = stack.stack.client("s3"), stack.stack.client("sqs")
            dynamodb = stack.stack.client("dynamodb")
            queues = [stack.stack.physical[q] for q in ("ChunkQueue", "WriterQueue", "WriterDLQ", "ChunkDLQ")]
            assert stack.launched is not None
            moto_pid = stack.launched.moto.pid
            before = _requests(stack.endpoint)
            spooled = 0
            started = time.perf_counter()
            s3.upload_file(str(path), stack.stack.physical["DataBucket"], key)
            file: dict[str, Any] = {}
            watched = ("TransformerFunction", "TransformerChunkFunction", "WriterFunction")
            peaks: dict[str, dict[int, float]] = {name: {} for name in watched}
            while True:
                time.sleep(2)
                for name in watched:  # workers retire when idle: their peaks are read while they run
                    for worker in list(stack.functions[name]._workers):
                        peaks[name][worker.pid] = max(peaks[name].get(worker.pid, 0.0), _peak_mib(worker.pid))
                spooled = max(spooled, _spooled_bytes(moto_pid))
                items = dynamodb.scan(TableName=stack.stack.physical["FilesTable"])["Items"]
                found = [i for i in items if i.get("key", {}).get("S") == key]
                file = found[0] if found else {}
                if file.get("status", {}).get("S") not in {"PROCESSED", "FAILED"}:
                    continue
                depths = [
                    sum(
                        int(v)
                        for v in sqs.get_queue_attributes(
                            QueueUrl=q,
                            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                        )["Attributes"].values()
                    )
                    for q in queues
                ]
                if not any(depths):
                    break
            elapsed = time.perf_counter() - started
            after = _requests(stack.endpoint)
        finally:
            stack.stop()
    served = {name: n - before.get(name, 0) for name, n in after.items() if n > before.get(name, 0)}
    return {
        "seconds": elapsed,
        "load": os.getloadavg(),
        "status": file["status"]["S"],
        "records": int(file.get("recordsRead", {}).get("N", 0)),
        "chunks": int(file.get("chunksTotal", {}).get("N", 0)),
        "peak_mib": {name: sorted(by_pid.values()) for name, by_pid in peaks.items()},
        "function_requests": {name: n for name, n in served.items() if name in FUNCTION_OPERATIONS},
        "other_requests": {name: n for name, n in served.items() if name not in FUNCTION_OPERATIONS},
        "spooled_peak_mib": spooled / 2**20,
    }


# What the pipeline's functions call; the rest moto serves is the stack's (Lambda's SQS polling, the S3 →
# EventBridge listing and its HeadObject per version) and the bench's (the upload, its FilesTable scans).
FUNCTION_OPERATIONS = {
    "S3.GetObject",
    "S3.PutObject",
    "S3.DeleteObjects",
    "SQS.SendMessageBatch",
    "DynamoDB.BatchWriteItem",
    "DynamoDB.BatchGetItem",
    "DynamoDB.GetItem",
    "DynamoDB.UpdateItem",
    "DynamoDB.TransactWriteItems",
    "DynamoDB.PutItem",
}


def _requests(endpoint: str) -> dict[str, int]:
    """What the local stack's moto server has answered so far, by operation (tools.local.moto_requests)."""
    with urllib.request.urlopen(f"{endpoint}/_local/requests", timeout=30) as answer:  # noqa: S310 - our moto
        counts: dict[str, int] = json.loads(answer.read())
    return counts


def _spooled_bytes(pid: int) -> int:
    """The bytes of the deleted-but-open temporary files a process holds: moto's S3 bodies on disk."""
    total = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).endswith("(deleted)"):
                total += fd.stat().st_size
        except OSError:  # closed meanwhile
            continue
    return total


def _peak_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # retired between the listing and the read
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def big_files(
    size_mb: int, worker_counts: list[int], chunk_mb: int, formats: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    _aws_environment()
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / f"accounts-{size_mb}mb.ndjson"
        write_ndjson(plain, target_bytes=size_mb * 1024 * 1024, padding=PADDING_BYTES)
        if "ndjson" in formats:
            for workers in worker_counts:
                yield (
                    f"NDJSON {plain.stat().st_size / 2**20:,.0f} MiB, {workers} worker(s)",
                    through_local_stack(plain, f"incoming/{plain.name}", workers=workers, chunk_bytes=chunk_mb * 2**20),
                )
        if "gzip" in formats:
            compressed = Path(scratch) / f"{plain.name}.gz"
            with plain.open("rb") as source, gzip.open(compressed, "wb", compresslevel=6) as target:
                shutil.copyfileobj(source, target)
            plain.unlink()  # the disk holds one copy at a time
            label = (
                f"the same gzip-compressed ({compressed.stat().st_size / 2**20:,.1f} MiB): decompressed once into "
                f"staged parts, then in chunks, {max(worker_counts)} worker(s)"
            )
            yield (
                label,
                through_local_stack(
                    compressed,
                    f"incoming/{compressed.name}",
                    workers=max(worker_counts),
                    chunk_bytes=chunk_mb * 2**20,
                ),
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--chunked-mb", type=int, default=64, help="the big NDJSON file of part 3 (0: skip 3)")
    parser.add_argument("--chunk-mb", type=int, default=8, help="IngestChunkBytes for part 3, in MiB")
    parser.add_argument("--only-big-files", action="store_true", help="part 3 alone")
    parser.add_argument("--only-transformer", action="store_true", help="part 2 alone")
    parser.add_argument(
        "--formats", default="ndjson,gzip", help="part 3's files: ndjson (each --workers), gzip (the most workers)"
    )
    parser.add_argument("--workers", default="1,4", help="part 3: workers per function, one run each")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

    if args.only_big_files:
        return report_big_files(args)
    if args.only_transformer:
        report_transformer(args)
        return 0

    e2e = end_to_end(args.records)
    per_thousand = e2e["function_requests"] * 1000 / e2e["records"]
    verdict = "ok" if per_thousand <= REQUESTS_GOAL else "OVER"
    print(f"End to end on moto (in-process), {e2e['records']:,} records in one JSON file, 5 % invalid:")
    print(f"  function requests per 1,000 records: {per_thousand:.1f} (goal <= {REQUESTS_GOAL}) {verdict}")
    print(f"    by operation: {e2e['by_operation']}")
    polling = e2e["event_source_requests"] * 1000 / e2e["records"]
    print(f"  event-source polling per 1,000 records (Lambda's own, on AWS): {polling:.1f}")
    print(f"  records per second: {e2e['records'] / e2e['seconds']:,.0f} ({e2e['seconds']:.1f} s)")

    report_transformer(args)
    return report_big_files(args)


def report_transformer(args: argparse.Namespace) -> None:
    print(
        "\nTransformer alone, fresh process, against moto's server (a file it plans into chunks: then each chunk by "
        "TransformerChunkFunction's handler, one after another in the same process):"
    )
    print(
        "| file | size | records read / accepted / rejected | peak RSS over baseline | baseline (after init) | time |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for run in transformer_memory([1, args.big_mb]):
        counts = run["ingestion"]
        verdict = "" if run["over_baseline_mib"] <= MEMORY_GOAL_MIB else " OVER"
        chunks = counts["chunks"]
        chunked = f"{chunks} chunks, {counts['chunksFailed']} failed" if chunks else "read whole"
        chunked = f" ({counts['status']}, {chunked})"
        print(
            f"| {run['file']}{chunked} | {run['size_mb']:.2f} MB "
            f"| {counts['recordsRead']:,} / {counts['accepted']:,} / {counts['rejected']:,} "
            f"| {run['over_baseline_mib']:.1f} MiB{verdict} | {run['baseline_mib']:.0f} MiB | {run['seconds']:.1f} s |",
            flush=True,
        )
    print(f"(goal: <= {MEMORY_GOAL_MIB} MiB over baseline for every file; {args.big_mb} MB no more than 1 MB needs)")


def report_big_files(args: argparse.Namespace) -> int:
    e2e = end_to_end(args.records, chunks=8)
    per_thousand = e2e["function_requests"] * 1000 / e2e["records"]
    verdict = "ok" if per_thousand <= REQUESTS_GOAL else "OVER"
    print(f"\nEnd to end on moto (in-process), {e2e['records']:,} records as NDJSON split into 8 chunks:")
    print(f"  function requests per 1,000 records: {per_thousand:.1f} (goal <= {REQUESTS_GOAL}) {verdict}")
    print(f"    by operation: {e2e['by_operation']}")
    if not args.chunked_mb:
        return 0
    print(
        f"\nBig files through the local stack ({PADDING_BYTES:,} bytes of padding a record, "
        f"{args.chunk_mb} MiB chunks):"
    )
    print(
        "| file | status | records | chunks | wall time (load average) | peak RSS of each worker that ran (MiB) "
        "| function requests per 1,000 records | moto's S3 bodies on disk, peak |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    workers = [int(n) for n in args.workers.split(",")]
    for label, run in big_files(args.chunked_mb, workers, args.chunk_mb, args.formats.split(",")):
        peaks = "; ".join(f"{name}: {', '.join(f'{p:.0f}' for p in mib)}" for name, mib in run["peak_mib"].items())
        per_thousand = sum(run["function_requests"].values()) * 1000 / max(run["records"], 1)
        load = ", ".join(f"{n:.1f}" for n in run["load"])
        print(
            f"| {label} | {run['status']} | {run['records']:,} | {run['chunks']} | {run['seconds']:.0f} s ({load}) "
            f"| {peaks} | {per_thousand:.1f} | {run['spooled_peak_mib']:,.0f} MiB |",
            flush=True,
        )
        print(f"    function requests: {run['function_requests']}; others: {run['other_requests']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
