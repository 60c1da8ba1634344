"""Start-up benchmark of `make local`: from launching the stack to the first 200 on GET /products.

    python -m tools.local_bench [--runs 3]

Each run launches `python -m tools.local` (what `make local` runs) on free ports with its own state directory,
polls GET /products until it answers 200, then stops the stack. Reported: the median of the runs, each run's
time and the stack's own "ready in" line (provisioned, seeded, every function warm), with the machine's core
count and load average, since a shared machine's load moves these numbers more than anything else.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 5.0


def free_ports(count: int) -> list[int]:
    probes = [socket.create_server(("127.0.0.1", 0)) for _ in range(count)]
    ports = [probe.getsockname()[1] for probe in probes]
    for probe in probes:
        probe.close()
    return ports


def answers(url: str) -> bool:
    """Whether GET `url` answers 200. The stack listens from its launch on, so a request made early waits in
    the socket's backlog until the stack serves it: that answer is the one timed."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the stack on 127.0.0.1
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def one_run(timeout: float = 120.0) -> tuple[float, str]:
    """Seconds from launch to the first 200 on GET /products, and the stack's own "ready in" line."""
    api, websocket, aws = free_ports(3)
    ports = ["--port", str(api), "--websocket-port", str(websocket), "--aws-port", str(aws)]
    with tempfile.TemporaryDirectory() as state:
        launched = time.monotonic()
        stack = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tools.local", *ports, "--state-dir", state],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        assert stack.stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(stack.stdout or []), daemon=True)
        reader.start()
        try:
            while not answers(f"http://127.0.0.1:{api}/products"):
                if stack.poll() is not None or time.monotonic() - launched > timeout:
                    raise RuntimeError("the stack did not answer:\n" + "".join(lines[-20:]))
                time.sleep(0.05)
            first_200 = time.monotonic() - launched
        finally:
            stack.send_signal(signal.SIGTERM)
            stack.wait(timeout=30)
            reader.join(timeout=5)
    ready = next((line.strip() for line in lines if line.startswith("ready in")), "answered before its ready line")
    return first_200, ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    runs = [one_run() for _ in range(args.runs)]
    median = statistics.median(seconds for seconds, _ in runs)
    print("## make local: launch to the first 200 on GET /products")
    print(f"cores: {os.cpu_count()}; load average (1 min) before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}")
    for number, (seconds, ready) in enumerate(runs, 1):
        print(f"  run {number}: {seconds:5.2f} s   (stack: {ready})")
    verdict = "within" if median <= GOAL_SECONDS else "OVER"
    print(f"median of {len(runs)}: {median:.2f} s ({verdict} the {GOAL_SECONDS:.0f} s goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
