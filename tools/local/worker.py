"""Inside a worker: one function's warm container, serving one invocation at a time.

It sets the function's environment first, then imports `app` from the function's directory with the shared
layer on its path (as Lambda puts /var/task and /opt/python): module-level state, environment variables and
Powertools' service name stay the function's own, as in a Lambda container.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from tools import openapi
from tools.local.lambda_context import LambdaContext


def serve(fd: int, spec: dict[str, Any]) -> None:
    """Answer the stack's commands on the connection `fd` until it closes."""
    connection = Connection(fd)
    os.environ.clear()
    os.environ.update(spec["environment"])
    log = os.open(spec["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # the function's logs (Powertools writes JSON to stdout) go to its log file
    os.dup2(log, 2)
    sys.path[:0] = spec["path"]
    try:
        module = importlib.import_module("app")
        handler = module.lambda_handler
    except BaseException as error:
        connection.send(("error", error_of(error)))
        return
    connection.send(("ready", None))
    while True:
        try:
            command, event = connection.recv()  # an invocation's event: {"event": ..., "requestId": ...}
        except (EOFError, OSError):
            return
        if command == "openapi":  # the function's Powertools resolver describes its routes, if it has one
            resolver = getattr(module, "app", None)
            described = json.dumps(openapi.describe(resolver)) if hasattr(resolver, "get_openapi_schema") else None
            connection.send(("ok", described))
            continue
        if command not in ("invoke", "invoke-then-crash"):
            return
        try:
            context = LambdaContext(
                function_name=spec["name"], aws_request_id=event["requestId"], timeout_seconds=spec["timeout"]
            )
            answer = handler(event["event"], context)
            if command == "invoke-then-crash":  # the stack's `crashes` fault: dies after its side effects
                sys.stdout.flush()
                os._exit(137)
            connection.send(("ok", answer))
        except BaseException as error:
            traceback.print_exc()
            connection.send(("error", error_of(error)))
        finally:
            sys.stdout.flush()


def error_of(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }
