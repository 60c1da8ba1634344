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

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from dropshop.accounts.model import Account
from dropshop.accounts.repository import AccountRepository
from dropshop.files.model import ChunkProgress, Claim, FileStatus, Ingestion, StoredFile
from dropshop.files.repository import FileRepository
from dropshop.files.service import INGESTION_LEASE
from dropshop.ingestion.chunks import Chunk
from tests.e2e.conftest import eventually
from tools.local.moto_server import free_port
from tools.local.sam_bridge import wired
from tools.local.server import DEMO_PASSWORD, DEMO_USERS, LocalStack
from tools.local.stack import Stack
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


@contextlib.contextmanager
def prepared(local: LocalStack, function: str, event_path: Path, workdir: Path) -> Iterator[Path]:
    """The sample with a real token where it has a placeholder, the object an S3 event announces, and the file a
    chunk belongs to, planned as the Transformer plans it."""
    assert local.stack is not None
    event = json.loads(event_path.read_text())
    if "{{" in event_path.read_text():  # {{ID_TOKEN}}, {{SUB}}, {{USERNAME}}: the demo user's
        copy = workdir / event_path.name
        copy.write_text(event_path.read_text())
        yield fill_event(copy, token(local, ADMIN_EVENTS.get(event_path.name, "customer")))
        return
    if event.get("source") == "aws.s3":
        bucket, key = event["detail"]["bucket"]["name"], unquote_plus(event["detail"]["object"]["key"])
        put_object(local.stack, bucket, key, (event_path.parent / "files" / Path(key).name).read_bytes())
    if function == "TransformerChunkFunction":
        with planned_file(local.stack, Chunk.from_json(event["Records"][0]["body"])):
            yield event_path
        return
    yield event_path


def put_object(stack: Stack, bucket: str, key: str, body: bytes) -> str:
    """The object in the bucket a sample names (made if missing); its ETag."""
    s3 = stack.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": stack.region})
    etag: str = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
    return etag.strip('"')


# The chunk sample is the second of the two chunks the Transformer's sample NDJSON file is planned into (as in
# tests/integration/pipeline/test_sample_events.py): [300, 696) holds acc-1003, a broken line and acc-1005.
CHUNK_SOURCE = EVENTS / "transformer" / "files"
CHUNKS_PLANNED = 2
CHUNK_ACCOUNTS = ("acc-1003", "acc-1005")


@contextlib.contextmanager
def planned_file(stack: Stack, chunk: Chunk) -> Iterator[None]:
    """What the Transformer leaves behind before a chunk arrives (ingestion.service._split): the object, the file
    claimed, its plan stored (counters at zero) and handed to the chunks. Forgotten afterwards, so the
    Transformer's own sample of that file finds it new, not handed on."""
    etag = put_object(stack, chunk.bucket, chunk.key, (CHUNK_SOURCE / Path(chunk.key).name).read_bytes())
    assert etag == chunk.etag, "the sample's ETag pins the bytes of events/transformer/files"
    upload = StoredFile(
        bucket=chunk.bucket,
        key=chunk.key,
        etag=etag,
        size=chunk.end,  # the last chunk ends with the file
        uploaded_at="2026-11-24T12:00:00Z",
        version_id=chunk.version_id,
    )
    assert upload.file_id == chunk.file_id, "the sample names the file its bucket, key and ETag make"
    files = FileRepository(stack.client("dynamodb"), stack.physical["FilesTable"])
    assert files.claim(upload, invocation="the Transformer's run", lease=INGESTION_LEASE) is Claim.TAKEN
    files.plan_chunks(upload.file_id, CHUNKS_PLANNED)
    files.hand_to_chunks(upload.file_id)
    try:
        yield
    finally:
        _forget_file(stack, upload.file_id)


def _forget_file(stack: Stack, file_id: str) -> None:
    """The file's item and its chunks' done markers (`chunkOf` it) out of FilesTable."""
    dynamodb, table = stack.client("dynamodb"), stack.physical["FilesTable"]
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="fileId, chunkOf"):
        for item in page["Items"]:
            if file_id in (item["fileId"]["S"], item.get("chunkOf", {}).get("S")):
                dynamodb.delete_item(TableName=table, Key={"fileId": item["fileId"]})


def chunk_ingested(stack: Stack, event: dict[str, Any]) -> None:
    """The chunk's records read and counted once in its file's progress (the file still waits for its first
    chunk), the broken line in LogTable, and its valid records in AccountTable, through WriterQueue and the
    stack's WriterFunction."""
    chunk = Chunk.from_json(event["Records"][0]["body"])
    file = FileRepository(stack.client("dynamodb"), stack.physical["FilesTable"]).get(chunk.file_id)
    assert file is not None
    assert file.chunks == ChunkProgress(done=1, total=CHUNKS_PLANNED)
    assert file.ingestion == Ingestion(records_read=3, accepted=2, rejected=1)
    assert file.status is FileStatus.PROCESSING, "the first chunk is not counted yet"
    logged = stack.client("dynamodb").scan(TableName=stack.physical["LogTable"])["Items"]
    (refused,) = [entry for entry in logged if entry.get("fileId", {}).get("S") == chunk.file_id]
    assert "not JSON" in refused["reason"]["S"]
    records = {}
    for line in (CHUNK_SOURCE / Path(chunk.key).name).read_text().splitlines():
        with contextlib.suppress(ValueError):  # the broken line
            records[json.loads(line)["id"]] = json.loads(line)
    accepted = [Account.model_validate(records[account]) for account in CHUNK_ACCOUNTS]
    accounts = AccountRepository(stack.client("dynamodb"), stack.physical["AccountTable"])
    eventually(lambda: accounts.stored(accepted) == set(accepted), timeout=60)


# Samples that only a real AWS account answers: moto has no CodeDeploy lifecycle hooks (GetDeploymentTarget,
# PutLifecycleEventHookExecutionStatus). The hook judges every function on the local stack instead
# (tests/integration/commerce/test_canary_smoke.py).
NEEDS_REAL_AWS = {"pre_traffic.json": "moto has no CodeDeploy lifecycle hook API"}
# What a sample's invocation must have done to the stack, beyond answering without an error.
OUTCOMES: dict[str, Callable[[Stack, dict[str, Any]], None]] = {"chunk.json": chunk_ingested}

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
    with prepared(local, function, event_path, tmp_path) as event:
        command = [
            *sam(), "local", "invoke", function,
            "--template", str(built / "template.yaml"),
            "--event", str(event),
            *bridge["args"],
            "--skip-pull-image",
            "--parameter-overrides", "Architecture=x86_64",
        ]  # fmt: skip
        result = subprocess.run(  # noqa: S603
            command,
            cwd=ROOT,
            env=container_environment(bridge),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        output = json.loads(result.stdout.strip().splitlines()[-1])
        assert "errorType" not in output, output
        if "statusCode" in output:
            assert output["statusCode"] == EXPECTED_STATUS[event_path.name], output
        if "batchItemFailures" in output:
            assert output["batchItemFailures"] == [], output
        if outcome := OUTCOMES.get(event_path.name):
            assert local.stack is not None
            outcome(local.stack, json.loads(event.read_text()))


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
