"""Fixtures every suite shares: a clean AWS-free environment and one boto3 session."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.logs import LogLines
from tests.support.properties import register_profiles

# Set before any test module imports the layer: functions read their environment at import time.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "tests",
        "POWERTOOLS_METRICS_NAMESPACE": "DropShop",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "FRONTEND_ORIGIN": "http://localhost:5173",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

# Before any test module is imported: every property test's settings derive from the profile loaded here.
register_profiles()

# What every module starts from; the runners' own variables change by design: pytest's names the running test,
# mutmut's (`make mutate`) the mutant under test, and the two it sets when it traces tests added since its last run.
BASELINE_ENVIRONMENT = dict(os.environ)
RUNNERS_OWN = frozenset(
    {"PYTEST_CURRENT_TEST", "MUTANT_UNDER_TEST", "MUTMUT_DEPENDENCY_DEPTH", "PY_IGNORE_IMPORTMISMATCH"}
)


@pytest.fixture(scope="module", autouse=True)
def environment_ends_with_its_module() -> Iterator[None]:
    """A fixture that outlives its module with the environment it set (AWS_ENDPOINT_URL above all) points
    every later module at its AWS: moto's server instead of a test's in-process mock, whatever the order.
    Compared with the baseline, not with the module's start: a session fixture sets up before any module's."""
    yield
    now = dict(os.environ)
    changed = sorted(
        key
        for key in BASELINE_ENVIRONMENT.keys() | now.keys()
        if BASELINE_ENVIRONMENT.get(key) != now.get(key) and key not in RUNNERS_OWN
    )
    assert not changed, f"the environment kept these variables past the module that set them: {changed}"


@pytest.fixture(scope="session")
def aws_session() -> boto3.session.Session:
    # moto resets boto3's default session; one shared session keeps service models loaded once (FACTS.md).
    return boto3.session.Session(region_name=os.environ["AWS_REGION"])


@pytest.fixture
def logs() -> Iterator[LogLines]:
    # The module-level Logger bound its stream at import; point it at a buffer for this test only.
    from dropshop.platform.observability import logger

    handler = logger.registered_handler
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield LogLines(stream)
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.fixture
def emitted() -> Iterator[dict[str, Any]]:
    """The metrics the function would emit at the end of this invocation: name -> its unit and values."""
    from dropshop.platform.observability import metrics

    metrics.clear_metrics()
    yield metrics.metric_set
    metrics.clear_metrics()
