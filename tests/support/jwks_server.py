"""A JWKS document served over HTTP on 127.0.0.1, counting how often it is fetched."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JwksHost:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.url = ""
        self.delay = 0.0  # seconds each answer waits: an endpoint too slow to wait for


@contextmanager
def serve_jwks() -> Iterator[JwksHost]:
    host = JwksHost()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.fetches += 1
            time.sleep(host.delay)
            body = json.dumps({"keys": host.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            try:
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (a delay beyond its timeout): nobody to answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host.url = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    # shutdown() waits for serve_forever's next poll: its default half second was most of each token test's time.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
