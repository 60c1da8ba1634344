"""`sam local` wired to the stack `make local` runs: every route answers with the local stack's data.

A Lambda container's 127.0.0.1 is the container itself, and SAM CLI ignores `--docker-network host` since
1.87. So the functions get their environment (`.local/env.json`, written by the running stack) with the
host named `host.docker.internal`, which Docker Desktop resolves to the host and Linux Docker (20.10+) too
once the container is given `--add-host host.docker.internal:host-gateway`. On Linux that gateway is the
Docker bridge's address, where the stack does not listen (it listens on 127.0.0.1 only): a relay listens
there, on the stack's ports, and forwards to 127.0.0.1. On Docker Desktop the bridge lives in its VM, the
address is not this machine's, and none is needed: Docker Desktop forwards host.docker.internal to the host.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CONTAINER_HOST = "host.docker.internal"
ADD_HOST = f"{CONTAINER_HOST}:host-gateway"
# The stack's own endpoints (moto, the Management API) are 127.0.0.1 URLs; origins (`localhost`) stay as they are.
LOOPBACK_URL = re.compile(r"//127\.0\.0\.1:(\d+)")
# Dummy credentials for moto (which checks none) and the stack's region: SAM passes the shell's to the
# containers, and `--env-vars` only sets variables the template declares.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}


def container_env(env_vars: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The stack's `--env-vars` with every URL to this machine's loopback naming the host as containers see it."""
    return {
        function: {name: LOOPBACK_URL.sub(rf"//{CONTAINER_HOST}:\1", value) for name, value in variables.items()}
        for function, variables in env_vars.items()
    }


def loopback_ports(env_vars: dict[str, dict[str, str]]) -> set[int]:
    """The ports of this machine the functions call (moto's, the WebSocket Management API's)."""
    values = [value for variables in env_vars.values() for value in variables.values()]
    return {int(port) for value in values for port in LOOPBACK_URL.findall(value)}


def bridge_gateway() -> str | None:
    """The address Linux Docker's `host-gateway` names: the default bridge's (docker0), or None without one.

    Docker records no Gateway for its default bridge on some versions, so ask the interface itself."""
    import fcntl
    import struct

    siocgifaddr = 0x8915  # Linux's ioctl for an interface's IPv4 address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            request = struct.pack("256s", b"docker0")
            answer = fcntl.ioctl(probe.fileno(), siocgifaddr, request)
        except OSError:
            return None  # no docker0: Docker Desktop (its bridge lives in its VM), or no Docker at all
    return socket.inet_ntoa(answer[20:24])


class Relay:
    """Forwards TCP connections from `address:port` to `127.0.0.1:port`, for each port given."""

    def __init__(self, address: str, ports: set[int]) -> None:
        self.address = address
        self.listeners: list[socket.socket] = []
        for port in sorted(ports):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((address, port))
            except OSError as error:
                listener.close()
                if error.errno == errno.EADDRNOTAVAIL:  # Docker Desktop: not this machine's address
                    continue
                raise
            listener.listen(64)
            self.listeners.append(listener)
            threading.Thread(target=self._accept, args=(listener, port), daemon=True).start()

    def _accept(self, listener: socket.socket, port: int) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError:
                client.close()  # the stack is not (or no longer) there: the function sees a refused call
                continue
            upstream.settimeout(None)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    def close(self) -> None:
        for listener in self.listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def wired(env_file: Path, out_file: Path) -> Iterator[dict[str, Any]]:
    """Writes the containers' env-vars file and relays the stack's ports while the block runs.

    Yields the `--env-vars`/`--add-host` arguments for `sam local` and the environment to run it in."""
    env_vars: dict[str, dict[str, str]] = json.loads(env_file.read_text())
    out_file.write_text(json.dumps(container_env(env_vars), indent=2))
    region = next((v["AWS_REGION"] for v in env_vars.values() if "AWS_REGION" in v), "eu-west-1")
    gateway = bridge_gateway()
    relay = Relay(gateway, loopback_ports(env_vars)) if gateway else None
    try:
        yield {
            "args": ["--env-vars", str(out_file), "--add-host", ADD_HOST],
            "environment": {**CREDENTIALS, "AWS_REGION": region, "AWS_DEFAULT_REGION": region},
        }
    finally:
        if relay is not None:
            relay.close()
