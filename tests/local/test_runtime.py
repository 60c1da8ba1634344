"""The local stack's functions behave like Lambda's: overlapping invocations run on more workers (each a cold
start) up to the function's concurrency, idle workers retire, and each worker keeps its function's own
environment and modules although all fork from one zygote."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tools.local.runtime import Function, FunctionError, Zygote
from tools.local.server import concurrency_of
from tools.local.stack import Stack

HANDLER = """
import os, sys, time

# Read at import time, as the layer's settings are: the worker must have set its environment first.
GREETING_AT_IMPORT = os.environ.get("GREETING")
time.sleep(float(os.environ.get("INIT_SECONDS", "0")))  # a slow init
PRELOADED = "botocore.session" in sys.modules and "pydantic" in sys.modules
LAYER_PRELOADED = "dropshop" in sys.modules  # the layer is the function's own code: imported in the worker
import boto3
DEFAULT_SESSION = boto3.DEFAULT_SESSION  # no session made before the fork

def lambda_handler(event, context):
    if event.get("exit"):
        os._exit(3)
    time.sleep(event.get("sleep", 0))
    return {
        "pid": os.getpid(),
        "greetingAtImport": GREETING_AT_IMPORT,
        "leaked": os.environ.get("LEAKED_FROM_THE_STACK"),
        "preloaded": PRELOADED,
        "layerPreloaded": LAYER_PRELOADED,
        "defaultSession": repr(DEFAULT_SESSION),
        "function": context.function_name,
    }
"""


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    os.environ["LEAKED_FROM_THE_STACK"] = "yes"  # the stack's own environment must not reach functions
    zygote = Zygote()
    yield zygote
    zygote.stop()
    del os.environ["LEAKED_FROM_THE_STACK"]


@pytest.fixture
def make_function(zygote: Zygote, tmp_path: Path) -> Iterator[Any]:
    started: list[Function] = []
    (tmp_path / "app.py").write_text(HANDLER)

    def make(
        name: str = "SleepyFunction",
        *,
        concurrency: int = 3,
        greeting: str = "hello",
        init_seconds: float = 0,
        warm: bool = True,
    ) -> Function:
        logs: list[str] = []
        environment = {"GREETING": greeting, "INIT_SECONDS": str(init_seconds)}
        function = Function(name, tmp_path, environment, tmp_path / f"{name}.log", zygote, concurrency, logs.append)
        if warm:
            function.warm()
        function.lines = logs  # type: ignore[attr-defined]
        started.append(function)
        return function

    yield make
    for function in started:
        function.stop()


def burst(function: Function, invocations: int, sleep: float) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(invocations) as pool:
        return list(pool.map(lambda _: function.invoke({"sleep": sleep}), range(invocations)))


def test_overlapping_invocations_scale_out_to_the_functions_concurrency_and_no_further(make_function: Any) -> None:
    function = make_function(concurrency=3)

    answers = burst(function, 8, sleep=1.0)

    assert len({answer["pid"] for answer in answers}) == 3
    assert function.workers == 3
    assert function.peak_in_flight == 3
    cold_starts = [line for line in function.lines if "cold start" in line]
    # Workers 2 and 3 start at once: which one logs first is up to the scheduler.
    assert sorted(re.findall(r"cold start: worker \d of 3", "\n".join(cold_starts))) == [
        "cold start: worker 2 of 3",
        "cold start: worker 3 of 3",
    ]


def test_an_invocation_during_the_warm_up_waits_for_that_worker_instead_of_starting_another(
    make_function: Any,
) -> None:
    function = make_function(concurrency=3, init_seconds=1.0, warm=False)
    warming = threading.Thread(target=function.warm)
    warming.start()
    while not function.workers:  # forked, still importing its handler
        time.sleep(0.01)

    function.invoke({})
    warming.join()

    assert function.workers == 1
    assert not [line for line in function.lines if "cold start" in line]


def test_the_first_invocation_of_a_function_nobody_warmed_starts_its_first_worker(make_function: Any) -> None:
    function = make_function(warm=False)

    function.invoke({})

    assert function.workers == 1
    assert "cold start: worker 1 of 3" in function.lines[0]


def test_a_function_limited_to_one_worker_runs_its_invocations_one_at_a_time(make_function: Any) -> None:
    function = make_function(concurrency=1)

    answers = burst(function, 4, sleep=0.2)

    assert len({answer["pid"] for answer in answers}) == 1
    assert function.peak_in_flight == 1


def test_idle_workers_retire_down_to_one_warm_worker(make_function: Any) -> None:
    function = make_function(concurrency=3)
    burst(function, 3, sleep=1.0)
    assert function.workers == 3

    function.retire_idle(idle_timeout=60)
    assert function.workers == 3  # not idle long enough
    function.retire_idle(idle_timeout=0)

    assert function.workers == 1
    assert sum("retired" in line for line in function.lines) == 2
    cold_starts = sum("cold start" in line for line in function.lines)
    function.invoke({})
    assert sum("cold start" in line for line in function.lines) == cold_starts  # the warm one answered


def test_each_worker_imports_its_handler_with_its_own_environment_and_nothing_of_the_stacks(
    make_function: Any,
) -> None:
    hello = make_function("HelloFunction", greeting="hello")
    bye = make_function("ByeFunction", greeting="bye")

    hello_answer, bye_answer = hello.invoke({}), bye.invoke({})

    assert (hello_answer["greetingAtImport"], bye_answer["greetingAtImport"]) == ("hello", "bye")
    assert (hello_answer["function"], bye_answer["function"]) == ("HelloFunction", "ByeFunction")
    assert hello_answer["leaked"] is None


def test_workers_start_with_the_shared_libraries_imported_but_no_layer_code_and_no_aws_session(
    make_function: Any,
) -> None:
    answer = make_function().invoke({})

    assert answer["preloaded"] is True
    assert answer["layerPreloaded"] is False
    assert answer["defaultSession"] == "None"


def test_a_worker_that_exits_fails_its_invocation_and_the_next_one_gets_a_new_worker(make_function: Any) -> None:
    function = make_function(concurrency=2)
    first = function.invoke({})["pid"]

    with pytest.raises(FunctionError, match=r"Runtime\.ExitError"):
        function.invoke({"exit": True})

    assert function.invoke({})["pid"] != first


def test_invocations_fail_rather_than_hang_when_the_function_stops(make_function: Any) -> None:
    function = make_function(concurrency=1)
    outcomes: list[BaseException] = []

    def invoke() -> None:
        try:
            function.invoke({"sleep": 1.0})
        except FunctionError as error:
            outcomes.append(error)

    running, waiting = threading.Thread(target=invoke), threading.Thread(target=invoke)
    running.start()
    while not function.peak_in_flight:  # the first is in its handler; the second waits for the worker, or
        time.sleep(0.01)  # finds the function stopped: either way it must fail, not hang
    waiting.start()
    function.stop()
    running.join(timeout=10)
    waiting.join(timeout=10)

    assert sorted(error.error["errorType"] for error in outcomes) == ["Runtime.ExitError", "Runtime.Stopped"]


def template_with(properties: dict[str, Any], globals_: dict[str, Any] | None = None) -> Stack:
    template = {
        "Globals": {"Function": globals_ or {}},
        "Resources": {"OrdersFunction": {"Type": "AWS::Serverless::Function", "Properties": properties}},
    }
    return Stack(session=None, template=template, region="eu-west-1")


@pytest.mark.parametrize(
    ("properties", "globals_", "expected"),
    [
        pytest.param({}, None, 4, id="no reservation: the local cap"),
        pytest.param({"ReservedConcurrentExecutions": 2}, None, 2, id="a lower reservation"),
        pytest.param({"ReservedConcurrentExecutions": 100}, None, 4, id="a higher reservation: the local cap"),
        pytest.param({}, {"ReservedConcurrentExecutions": 1}, 1, id="reserved in Globals"),
        pytest.param({"ReservedConcurrentExecutions": 0}, None, 1, id="throttled: still one worker locally"),
    ],
)
def test_a_functions_local_concurrency_is_the_cap_or_its_lower_reservation(
    properties: dict[str, Any], globals_: dict[str, Any] | None, expected: int
) -> None:
    assert concurrency_of(template_with(properties, globals_), "OrdersFunction", cap=4) == expected
