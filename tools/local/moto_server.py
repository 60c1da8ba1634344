"""moto's server on 127.0.0.1, in a process of its own.

Its own process, because moto's in-process server shares the backends that every `mock_aws` resets.
It serves requests on threads; DynamoDB's writes are made atomic there (see `serve`), as on AWS.
"""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """Start the server, wait until it answers, yield its endpoint URL; stop it on the way out."""
    port = port or free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tools.local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, server)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(endpoint: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"moto's server exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - our loopback
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"moto's server did not answer at {endpoint}")


def serve() -> None:
    """moto's server, with each DynamoDB write (a transaction included) atomic against the others.

    DynamoDB evaluates a condition and applies its write as one step, and transactions are serializable;
    moto's backend checks and writes in separate Python steps, so two request threads can both pass
    `stock >= :quantity`. One lock over the writing operations restores what AWS guarantees.
    """
    from moto import server
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def atomic(write: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(write)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return write(*args, **kwargs)

        return locked

    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))
    server.main(sys.argv[1:])


if __name__ == "__main__":
    serve()
