"""What `make local` starts before it imports the rest of itself: it takes its three ports (a busy one stops it
here), and starts moto's server and the zygote, which come up while this process imports boto3, Powertools and
the gateway: three processes get three shares of a busy machine's cores, where one would wait for the others.
"""

from __future__ import annotations

import socket
from contextlib import ExitStack
from dataclasses import dataclass

from tools.local.moto_server import MotoServer
from tools.local.ports import listen
from tools.local.runtime import Zygote


@dataclass
class Launch:
    api: socket.socket  # listening for the REST and HTTP APIs
    websocket: socket.socket  # listening for the WebSocket API
    moto: MotoServer
    zygote: Zygote

    def stop(self) -> None:
        self.zygote.stop()
        self.moto.stop()
        self.api.close()
        self.websocket.close()


def launch(port: int, websocket_port: int | None, aws_port: int) -> Launch:
    """Ports first (0: any free port; the WebSocket API's defaults to the one after `port`), then the processes."""
    with ExitStack() as undo:
        api = undo.enter_context(listen(port, "PORT"))
        websocket = undo.enter_context(
            listen(websocket_port if websocket_port is not None else (port + 1 if port else 0), "WS_PORT")
        )
        aws = undo.enter_context(listen(aws_port, "AWS_PORT"))
        zygote = Zygote()
        undo.callback(zygote.stop)
        moto = MotoServer(aws)
        undo.pop_all()
    return Launch(api, websocket, moto, zygote)
