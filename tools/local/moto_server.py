"""moto's server on 127.0.0.1, in a process of its own.

Its own process, because moto's in-process server shares the backends that every `mock_aws` resets.
It serves requests on threads; DynamoDB's writes are made atomic there (see `serve`), as on AWS, user
pools run their pre token generation trigger (tools.local.token_trigger), which moto does not, and DynamoDB
conflicts and throttles as AWS's when the stack asks for them (tools.local.moto_faults).
It serves on a socket the stack already listens on (tools.local.ports): the endpoint that answers is this
stack's own moto, never another stack's on the same port.
"""

from __future__ import annotations

import argparse
import functools
import os
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


class MotoServer:
    """moto's server process, serving on a socket already listening (by default one on any free port)."""

    def __init__(self, listening: socket.socket | None = None) -> None:
        listening = listening or socket.create_server(("127.0.0.1", 0))
        port = listening.getsockname()[1]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tools.local.moto_server", "--port", str(port), "--fd", str(listening.fileno())],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=[listening.fileno()],
            start_new_session=True,  # Ctrl-C reaches the stack, which stops this server in order
        )
        listening.close()  # the server holds the port now
        self.endpoint = f"http://127.0.0.1:{port}"

    def wait_until_up(self) -> str:
        _wait_until_up(self.endpoint, self._process)
        return self.endpoint

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


@contextmanager
def moto_server(listening: socket.socket | None = None) -> Iterator[str]:
    """Start the server, wait until it answers, yield its endpoint URL; stop it on the way out."""
    server = MotoServer(listening)
    try:
        yield server.wait_until_up()
    finally:
        server.stop()


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


def serve(argv: list[str]) -> None:
    """moto's server, with each DynamoDB write (a transaction included) atomic against the others and
    against reads.

    DynamoDB evaluates a condition and applies its write as one step, transactions are serializable, and a
    read never sees half a write; moto's backend checks and writes in separate Python steps, so two request
    threads can both pass `stock >= :quantity`, and a GetItem can see an item an UpdateItem has created but
    not yet filled in. One lock over the operations that touch items restores what AWS guarantees.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from tools.local.moto_s3_bodies import store_bodies_once

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fd", type=int, required=True, help="a socket already listening on 127.0.0.1:port")
    args = parser.parse_args(argv)

    lock = threading.RLock()

    def atomic(write: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(write)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return write(*args, **kwargs)

        return locked

    # moto's BatchWriteItem and BatchGetItem go item by item through put_item, delete_item and get_item.
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query", "scan"):
        setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))
    _tokens_live_as_their_client_says()
    store_bodies_once()  # big files: each S3 body on disk once, not once per ListObjectVersions
    os.environ["MOTO_PORT"] = str(args.port)  # what moto writes into the URLs it returns (queue URLs)
    # Cognito's pre token generation trigger, which moto lacks, runs the layer's code as the function does.
    sys.path.insert(0, str(ROOT / "layers" / "shared"))
    from tools.local.moto_faults import DynamoDBFaults
    from tools.local.moto_requests import RequestCounts
    from tools.local.token_trigger import PreTokenGeneration

    # DynamoDB's conflicts and throttles, off until the stack turns them on (tools.local.faults).
    # Every request counted by operation, for the benchmarks (tools.local.moto_requests).
    app = RequestCounts(DynamoDBFaults(PreTokenGeneration(DomainDispatcherApplication(create_backend_app))))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler, fd=args.fd)
    server.serve_forever()


def _tokens_live_as_their_client_says() -> None:
    """moto signs every user's token for an hour; Cognito for as long as the app client says (the template's
    web client: 15 minutes)."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    from tools.local.token_lifetime import token_seconds

    create_jwt = CognitoIdpUserPool.create_jwt

    @functools.wraps(create_jwt)
    def create_jwt_for_its_client(
        pool: CognitoIdpUserPool, client_id: str, username: str, token_use: str, **kwargs: Any
    ) -> tuple[str, int]:
        client = pool.clients.get(client_id)
        if client is not None and "expires_in" not in kwargs:
            kwargs["expires_in"] = token_seconds(client.extended_config, token_use)
        return create_jwt(pool, client_id, username, token_use, **kwargs)

    CognitoIdpUserPool.create_jwt = create_jwt_for_its_client  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    serve(sys.argv[1:])
