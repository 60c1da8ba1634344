"""Functions as Lambda runs them: each invocation in a warm worker process with the function's own
environment, and more workers when invocations overlap.

A function's first worker starts when the stack warms it up (invocations meanwhile wait for it) or on its first
invocation. An invocation that arrives while all its workers are busy starts another (a cold start, logged),
up to the function's concurrency: the local cap, or less when the template reserves less
(ReservedConcurrentExecutions). Idle workers retire (`retire_idle`), down to one. Workers fork from the
zygote (tools.local.zygote), which imported what every function shares once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
# What a worker keeps from the launching shell: enough to run Python, nothing that reaches real AWS.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE")
# Workers per function when the template reserves no concurrency: enough to show races and to answer a page's
# parallel requests in parallel, few enough for a laptop (each worker is a Python process of ~60 MB).
LOCAL_CONCURRENCY = 4


class FunctionError(Exception):
    """The function raised: API Gateway answers 502, an event source retries."""

    def __init__(self, function: str, error: dict[str, Any]) -> None:
        super().__init__(f"{function}: {error['errorType']}: {error['errorMessage']}")
        self.error = error


class Zygote:
    """The forking parent of every worker, started once per stack (its imports run while moto starts)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._requests = ours
        self._lock = threading.Lock()
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tools.local.zygote", str(theirs.fileno())],
            cwd=ROOT,
            env={k: os.environ[k] for k in INHERITED if k in os.environ},
            pass_fds=[theirs.fileno()],
            start_new_session=True,  # Ctrl-C reaches the stack, which stops the workers in order
        )
        theirs.close()

    def fork(self, spec: dict[str, Any]) -> tuple[int, Connection]:
        """A new worker for `spec` (name, environment, path, log_path): its pid and its connection."""
        ours, theirs = socket.socketpair()
        with self._lock, theirs:
            socket.send_fds(self._requests, [json.dumps(spec).encode()], [theirs.fileno()])
            answer = self._requests.recv(32)
        if not answer:
            raise RuntimeError(f"the zygote exited ({self._process.poll()}): no worker for {spec['name']}")
        return int(answer), Connection(ours.detach())

    def stop(self) -> None:
        self._requests.close()  # the zygote returns when it reads the end of its requests
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@dataclass(eq=False)  # each worker is itself: pools keep them in sets
class Worker:
    """One warm container of a function, seen from the stack."""

    pid: int
    connection: Connection
    number: int  # 1 for a function's first worker, 2 for the next that ran beside it...
    last_used: float = field(default_factory=time.monotonic)

    def call(self, command: str, payload: Any = None, timeout: float | None = None) -> tuple[str, Any]:
        self.connection.send((command, payload))
        if timeout is not None and not self.connection.poll(timeout):
            raise TimeoutError(f"no answer in {timeout:.2f} s")
        answer: tuple[str, Any] = self.connection.recv()
        return answer

    def kill(self) -> None:
        self.connection.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait_ready(self, name: str, timeout: float) -> None:
        if not self.connection.poll(timeout):
            raise TimeoutError(f"{name} did not finish its init in {timeout:.0f} s")
        status, payload = self.connection.recv()
        if status != "ready":
            raise FunctionError(name, payload)

    def stop(self) -> None:
        self.connection.close()  # the worker returns at the end of its commands
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)  # and stops now if it is stuck in a handler


@dataclass
class Function:
    """A function's workers: reused most-recently-used first, added while all are busy, retired when idle."""

    name: str
    code_dir: Path
    environment: dict[str, str]
    log_path: Path
    zygote: Zygote
    concurrency: int = LOCAL_CONCURRENCY
    log: Callable[[str], None] = print
    init_timeout: float = 60.0
    # The template's Timeout, enforced when set: the worker is stopped there, as Lambda stops the invocation.
    timeout: float | None = None
    # The template's Timeout as the handler's context counts it down (get_remaining_time_in_millis), enforced or not.
    context_timeout: float = 3.0
    peak_in_flight: int = 0  # the most invocations that ran at once, since the start
    _idle: list[Worker] = field(default_factory=list)
    _workers: set[Worker] = field(default_factory=set)
    _starting: int = 0
    _in_flight: int = 0
    _stopped: bool = False
    _warming: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def workers(self) -> int:
        with self._changed:
            return len(self._workers)

    def warm(self) -> None:
        """Start the first worker before any invocation needs it; invocations meanwhile wait for it."""
        with self._changed:
            if self._workers or self._starting:
                return
            self._starting += 1
            self._warming = True
        try:
            worker = self._fork()
            self._wait_ready(worker)
        finally:
            with self._changed:
                self._warming = False
                self._changed.notify_all()
        self._release(worker)

    def invoke(self, event: dict[str, Any], *, crash_after: bool = False, request_id: str | None = None) -> Any:
        """The handler's answer; `crash_after`: the worker exits once the handler returned, before answering;
        `request_id`: the invocation's (a retry of an asynchronous invocation keeps it), a new one by default."""
        invocation = {"event": event, "requestId": request_id or str(uuid.uuid4())}
        status, payload = self.call("invoke-then-crash" if crash_after else "invoke", invocation)
        if status == "error":
            raise FunctionError(self.name, payload)
        return payload

    def call(self, command: str, payload: Any = None) -> tuple[str, Any]:
        worker = self._acquire()
        with self._changed:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            answer = worker.call(command, payload, self.timeout if command.startswith("invoke") else None)
        except TimeoutError:  # Lambda stops the invocation at the function's timeout: a function error
            self._forget(worker)
            worker.kill()
            timed_out = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {self.timeout:.2f} seconds",
            }
            raise FunctionError(self.name, timed_out) from None
        except (EOFError, OSError):  # the worker died (killed, or os._exit in a handler): it is not reused
            self._forget(worker)
            exited = {"errorType": "Runtime.ExitError", "errorMessage": "the worker exited"}
            raise FunctionError(self.name, exited) from None
        finally:
            with self._changed:
                self._in_flight -= 1
        self._release(worker)
        return answer

    def retire_idle(self, idle_timeout: float) -> None:
        """Stop workers idle for longer than `idle_timeout` seconds, keeping one warm."""
        cutoff = time.monotonic() - idle_timeout
        with self._changed:
            retiring = [w for w in self._idle if w.last_used < cutoff][: max(0, len(self._workers) - 1)]
            for worker in retiring:
                self._idle.remove(worker)
                self._workers.discard(worker)
        for worker in retiring:
            worker.stop()
            self.log(f"λ {self.name:22} worker {worker.number} retired after {idle_timeout:.0f} s idle")

    def stop(self) -> None:
        with self._changed:
            workers, self._workers, self._idle = set(self._workers), set(), []
            self._stopped = True
            self._changed.notify_all()
        for worker in workers:
            worker.stop()

    # ------------------------------------------------------------------ the pool

    def _acquire(self) -> Worker:
        with self._changed:
            while not self._stopped and not self._idle and (self._warming or self._full()):
                self._changed.wait()
            if self._stopped:
                raise FunctionError(self.name, {"errorType": "Runtime.Stopped", "errorMessage": "the stack stopped"})
            if self._idle:
                return self._idle.pop()  # the most recently used: the others stay idle and retire
            self._starting += 1
        started = time.monotonic()
        worker = self._fork()
        self._wait_ready(worker)
        with self._changed:
            busy = self._in_flight
        self.log(
            f"λ {self.name:22} cold start: worker {worker.number} of {self.concurrency} "
            f"ready in {(time.monotonic() - started) * 1000:.0f} ms ({busy} invocations on the others)"
        )
        return worker

    def _full(self) -> bool:
        return len(self._workers) + self._starting >= self.concurrency

    def _fork(self) -> Worker:
        spec = {
            "name": self.name,
            "environment": {k: os.environ[k] for k in INHERITED if k in os.environ} | self.environment,
            "path": [str(self.code_dir), str(LAYER), str(ROOT)],
            "log_path": str(self.log_path),
            "timeout": self.context_timeout,
        }
        try:
            pid, connection = self.zygote.fork(spec)
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            numbers = {w.number for w in self._workers}
            number = next(n for n in range(1, self.concurrency + 2) if n not in numbers)
            worker = Worker(pid, connection, number)
            self._workers.add(worker)
            self._starting -= 1
        return worker

    def _wait_ready(self, worker: Worker) -> None:
        try:
            worker.wait_ready(self.name, self.init_timeout)
        except BaseException:
            self._forget(worker)
            worker.stop()
            raise

    def _release(self, worker: Worker) -> None:
        worker.last_used = time.monotonic()
        with self._changed:
            if worker in self._workers:
                self._idle.append(worker)
            self._changed.notify()

    def _forget(self, worker: Worker) -> None:
        with self._changed:
            self._workers.discard(worker)
            self._changed.notify()
