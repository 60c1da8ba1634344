"""The stack's three ports, taken before anything starts: a busy one stops `make local` at once, naming the
`make` variable that moves it, rather than letting this stack talk to another one's moto or gateway."""

from __future__ import annotations

import errno
import socket

HOST = "127.0.0.1"


class PortBusy(Exception):
    def __init__(self, port: int, variable: str) -> None:
        super().__init__(
            f"port {port} ({variable}) is already in use, perhaps by another `make local`: "
            f"choose a free one, e.g. `make local {variable}={port + 10}`"
        )
        self.port = port
        self.variable = variable


def listen(port: int, variable: str) -> socket.socket:
    """A socket listening on 127.0.0.1:`port` (0: any free port), held from now on by this stack."""
    try:
        return socket.create_server((HOST, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortBusy(port, variable) from None
        raise


def port_of(listening: socket.socket) -> int:
    port: int = listening.getsockname()[1]
    return port
