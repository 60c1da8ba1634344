"""`sam local invoke` and `sam local start-api`, as users run them, against the local stack.

Every function with every sample event in events/ runs in SAM's Lambda container, its AWS calls going
to the stack `make local` runs, wired as `make start-api` wires it (`tools/local/sam_bridge.py`:
`--env-vars` naming host.docker.internal, `--add-host host.docker.internal:host-gateway`, a relay from the
Docker bridge to 127.0.0.1). Needs Docker and the Lambda Python image (on machines without a container
registry, CI builds a stand-in). Skipped, with the reason, where either is missing; in CI (`CI=1` or
`CI=true`, which `.ci/run` exports) missing either fails the suite instead: CI never passes without having
run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tools.local.moto_server import free_port
from tools.local.sam_bridge import wired
from tools.local.server import DEMO_PASSWORD, DEMO_USERS, LocalStack
from tools.token import fill_event

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
IMAGE = "public.ecr.aws/lambda/python:3.13-x86_64"


def _docker_ready() -> str | None:
    docker = shutil.which("docker")
    if not docker:
        return "Docker is not installed"
    if subprocess.run([docker, "info"], capture_output=True, check=False).returncode:  # noqa: S603
        return "Docker is installed but its daemon is not running"
    if subprocess.run([docker, "image", "inspect", IMAGE], capture_output=True, check=False).returncode:  # noqa: S603
        return f"the Lambda image {IMAGE} is not on this machine"
    return None


DOCKER_MISSING = _docker_ready()
MUST_RUN = os.environ.get("CI", "").lower() in {"1", "true"}


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(DOCKER_MISSING is not None and not MUST_RUN, reason=f"sam local needs Docker: {DOCKER_MISSING}"),
]


@pytest.fixture(scope="module", autouse=True)
def sam_local_can_run() -> None:
    if DOCKER_MISSING is not None:  # only reached in CI: elsewhere the module is skipped
        pytest.fail(f"CI must run the sam local suite, but sam local needs Docker: {DOCKER_MISSING}")


def sam() -> list[str]:
    return [str(Path(sys.executable).parent / "sam")]  # .venv's SAM CLI, as `make start-api` runs it


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(port=0, log=lambda _: None, state_dir=tmp_path_factory.mktemp("local"))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def bridge(local: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The repository's wiring of SAM's containers to the local stack (what `make start-api` uses)."""
    with wired(local.state_dir / "env.json", tmp_path_factory.mktemp("sam") / "sam-env.json") as wiring:
        yield wiring


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build")
    env = {**os.environ, "ARCH": "x86_64", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cache = str(ROOT / ".aws-sam" / "cache-x86_64")  # as `make build-local`: SAM's cache ignores the architecture
    command = [*sam(), "build", "--build-dir", str(build_dir), "--cache-dir", cache]
    command += ["--parameter-overrides", "Architecture=x86_64"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)  # noqa: S603
    return build_dir


def container_environment(bridge: dict[str, Any]) -> dict[str, str]:
    """The shell SAM runs in: dummy credentials and the stack's region (SAM passes them to the containers)."""
    return {**os.environ, **bridge["environment"]}


def token(local: LocalStack, group: str) -> str:
    assert local.stack is not None
    result = local.stack.client("cognito-idp").initiate_auth(
        ClientId=local.stack.physical["UserPoolClient"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_USERS[group]["username"], "PASSWORD": DEMO_PASSWORD},
    )
    id_token: str = result["AuthenticationResult"]["IdToken"]
    return id_token


def sample_events() -> list[tuple[str, Path]]:
    from samcli.yamlhelper import yaml_parse

    from tools.local.stack import TEMPLATE

    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    return [
        (name, event)
        for name, resource in sorted(resources.items())
        if resource["Type"] == "AWS::Serverless::Function"
        for event in sorted((EVENTS / Path(resource["Properties"]["CodeUri"]).name).glob("*.json"))
        if not event.name.endswith(".local.json")
    ]


def prepared(local: LocalStack, function: str, event_path: Path, workdir: Path) -> Path:
    """The sample with a real token where it has a placeholder, and the object an S3 event announces."""
    assert local.stack is not None
    event = json.loads(event_path.read_text())
    if "{{" in event_path.read_text():  # {{ID_TOKEN}}, {{SUB}}, {{USERNAME}}: the demo user's
        copy = workdir / event_path.name
        copy.write_text(event_path.read_text())
        return fill_event(copy, token(local, ADMIN_EVENTS.get(event_path.name, "customer")))
    if event.get("source") == "aws.s3":
        bucket, key = event["detail"]["bucket"]["name"], unquote_plus(event["detail"]["object"]["key"])
        s3 = local.stack.client("s3")
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": local.stack.region})
        s3.put_object(Bucket=bucket, Key=key, Body=(event_path.parent / "files" / Path(key).name).read_bytes())
    return event_path


# Samples that only a real AWS account answers: moto has no CodeDeploy lifecycle hooks (GetDeploymentTarget,
# PutLifecycleEventHookExecutionStatus). The hook judges every function on the local stack instead
# (tests/integration/commerce/test_canary_smoke.py).
NEEDS_REAL_AWS = {"pre_traffic.json": "moto has no CodeDeploy lifecycle hook API"}
# Samples that only make sense inside a run the stack started: a chunk belongs to a file the Transformer planned
# (its object, etag and FilesTable plan). tests/integration/pipeline/test_sample_events.py sets that up and runs
# the sample; doing it here needs the plan made in the local stack first.
NEEDS_A_PLANNED_FILE = {"chunk.json": "a chunk needs the file the Transformer planned (run in the integration suite)"}

# Samples sent as the demo admin; the rest as the demo customer.
ADMIN_EVENTS = {"list-files.json": "admin", "get-file.json": "admin", "add-product.json": "admin"}

EXPECTED_STATUS = {
    "get-session.json": 200,
    "no-token.json": 401,
    "forged-token.json": 401,
    "batch.json": 202,
    "not-json.json": 400,
    "too-many-events.json": 413,
    "list-files.json": 200,
    "get-file.json": 404,
    "list-products.json": 200,
    "get-product.json": 200,
    "add-product.json": 201,
    "place-order.json": 201,
    "list-orders.json": 200,
    "out-of-stock.json": 409,
    "get-invoice.json": 200,  # the demo order's, invoiced at start-up
    "get-credit-note.json": 404,  # the demo order is not cancelled: it has no credit note
    "connect.json": 200,
    "connect-anonymous.json": 401,
    "disconnect.json": 200,
    "subscribe.json": 200,  # on the connection connect.json opened (samples run in name order)
}


@pytest.mark.parametrize(("function", "event_path"), sample_events(), ids=lambda v: getattr(v, "name", v))
def test_sam_local_invoke_runs_every_sample_event(
    local: LocalStack, built: Path, bridge: dict[str, Any], tmp_path: Path, function: str, event_path: Path
) -> None:
    if event_path.name in NEEDS_REAL_AWS:
        pytest.skip(NEEDS_REAL_AWS[event_path.name])
    if event_path.name in NEEDS_A_PLANNED_FILE:
        pytest.skip(NEEDS_A_PLANNED_FILE[event_path.name])
    event = prepared(local, function, event_path, tmp_path)
    command = [
        *sam(), "local", "invoke", function,
        "--template", str(built / "template.yaml"),
        "--event", str(event),
        *bridge["args"],
        "--skip-pull-image",
        "--parameter-overrides", "Architecture=x86_64",
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=container_environment(bridge), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert "errorType" not in output, output
    if "statusCode" in output:
        assert output["statusCode"] == EXPECTED_STATUS[event_path.name], output
    if "batchItemFailures" in output:
        assert output["batchItemFailures"] == [], output


def test_sam_local_start_api_serves_the_rest_api(local: LocalStack, built: Path, bridge: dict[str, Any]) -> None:
    port = free_port()
    command = [
        *sam(), "local", "start-api",
        "--template", str(built / "template.yaml"),
        "--port", str(port),
        *bridge["args"],
        "--warm-containers", "LAZY",
        "--skip-pull-image",
        "--parameter-overrides", "Architecture=x86_64",
    ]  # fmt: skip
    server = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=container_environment(bridge), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base)
        status, body = _call(f"{base}/session", token=token(local, "customer"))
        assert (status, body["username"]) == (200, "jane")
        status, body = _call(f"{base}/telemetry", body={"events": []})
        assert (status, body) == (202, {"accepted": 0, "rejected": []})
        status, body = _call(f"{base}/products")  # the local stack's demo catalog, read through the bridge
        assert status == 200
        assert "demo-desk-lamp" in {product["productId"] for product in body["items"]}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _call(url: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"  # urllib's default, a form, is refused with 415
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - sam on our loopback
        return response.status, json.loads(response.read())


def _wait_for(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base, timeout=2).close()  # noqa: S310
            return
        except urllib.error.HTTPError:
            return  # it answers (a 403/404 for `/` is fine)
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"sam local start-api did not answer at {base}")
