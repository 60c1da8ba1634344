"""The process every function worker forks from.

It imports once what the functions share (botocore, Powertools, pydantic, PyJWT, the X-Ray SDK), then forks
a worker per request: a worker starts with those modules loaded and imports only its own handler and the
layer's code, after setting its own environment, as a Lambda container would. Fork copies modules, not state
that could leak between functions: nothing here creates a client, a session, a logger or reads a function's
environment (the layer's platform/aws.py builds its botocore session on first use, in the worker).

python -m tools.local.zygote <fd>    fd: a SOCK_SEQPACKET socket; each request is a JSON worker spec with the
                                     worker's end of its connection attached; the answer is the worker's pid.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys

# Imported by most functions (measured over the template's functions: each imports 590-930 modules, these
# are most of their import time); none reads per-function settings at import time.
PRELOAD = (
    "botocore.session",
    "botocore.client",
    "botocore.config",
    "boto3",
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.logging.correlation_paths",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.typing",
    "aws_xray_sdk.core",
    "jwt",
    "tools.local.worker",
)


def main(fd: int) -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps workers that exit
    requests = socket.socket(fileno=fd)
    from tools.local.worker import serve

    while True:
        message, fds, _, _ = socket.recv_fds(requests, 1 << 20, 1)
        if not message:  # the stack closed its end: it is stopping (its workers stop on their own)
            return
        pid = os.fork()
        if pid == 0:
            requests.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                serve(fds[0], json.loads(message))
            finally:
                os._exit(0)
        os.close(fds[0])
        requests.send(str(pid).encode())


if __name__ == "__main__":
    main(int(sys.argv[1]))
