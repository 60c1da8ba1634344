"""Functions as warm Lambda containers: one process each, with its own environment from the template.

A worker imports `app` from the function's directory with the shared layer on its path (as Lambda puts
/var/task and /opt/python), then serves invocations one at a time. Separate processes keep what Lambda
keeps apart: environment variables, module-level state, Powertools' service name.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import sys
import threading
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tools import openapi
from tools.local.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
# What a worker keeps from the launching shell: enough to run Python, nothing that reaches real AWS.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE")


class FunctionError(Exception):
    """The function raised: API Gateway answers 502, an event source retries."""

    def __init__(self, function: str, error: dict[str, Any]) -> None:
        super().__init__(f"{function}: {error['errorType']}: {error['errorMessage']}")
        self.error = error


@dataclass
class Worker:
    name: str
    code_dir: Path
    environment: dict[str, str]
    log_path: Path
    _connection: Connection | None = None
    _process: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter, as a cold start is
        parent, child = spawn.Pipe()
        environment = {k: os.environ[k] for k in INHERITED if k in os.environ} | self.environment
        self._process = spawn.Process(
            target=_serve,
            args=(child, self.name, str(self.code_dir), environment, str(self.log_path)),
            name=f"lambda:{self.name}",
            daemon=True,
        )
        self._process.start()
        self._connection = parent

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self._connection is not None
        if not self._connection.poll(timeout):
            raise TimeoutError(f"{self.name} did not finish its init in {timeout:.0f} s (see {self.log_path})")
        status, payload = self._connection.recv()
        if status != "ready":
            raise FunctionError(self.name, payload)

    def invoke(self, event: dict[str, Any]) -> Any:
        assert self._connection is not None
        with self._lock:  # one invocation at a time, like one container
            self._connection.send(("invoke", event))
            status, payload = self._connection.recv()
        if status == "error":
            raise FunctionError(self.name, payload)
        return payload

    def openapi(self) -> str | None:
        """The OpenAPI document (JSON) the function's Powertools resolver generates, or None without one."""
        assert self._connection is not None
        with self._lock:
            self._connection.send(("openapi", None))
            _, document = self._connection.recv()
        return document if isinstance(document, str) else None

    def stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)


def _serve(connection: Connection, name: str, code_dir: str, environment: dict[str, str], log_path: str) -> None:
    os.environ.clear()
    os.environ.update(environment)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # the function's logs (Powertools writes JSON to stdout) go to its log file
    os.dup2(log, 2)
    sys.path[:0] = [code_dir, str(LAYER), str(ROOT)]
    try:
        module = importlib.import_module("app")
        handler = module.lambda_handler
    except BaseException as error:
        connection.send(("error", _error(error)))
        return
    connection.send(("ready", None))
    while True:
        try:
            command, event = connection.recv()
        except EOFError:
            return
        if command == "openapi":  # the function's Powertools resolver describes its routes, if it has one
            resolver = getattr(module, "app", None)
            described = json.dumps(openapi.describe(resolver)) if hasattr(resolver, "get_openapi_schema") else None
            connection.send(("ok", described))
            continue
        if command != "invoke":
            return
        try:
            connection.send(("ok", handler(event, LambdaContext(function_name=name))))
        except BaseException as error:
            traceback.print_exc()
            connection.send(("error", _error(error)))
        finally:
            sys.stdout.flush()


def _error(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }
