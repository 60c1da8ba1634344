"""Cold-init benchmark: every handler against the peer style and the bare floor, and without valid bytecode.

    python -m tools.bench [--runs 7] [--stale-runs 2] [--build-dir build/bench] [--no-build]

For each function of the built template, a fresh interpreter imports the handler the way Lambda's init
phase does (/var/task = the function's build dir, then /opt/python = the layer, then the runtime's
boto3) and reports the CPU time `import app` took: imports plus module-level setup such as client creation.
(CPU time, not wall time: init is CPU-bound, and on a shared machine wall time mostly measures the neighbours.)

Two references are generated in the same run and measured alongside:
- the floor: a bare handler that imports boto3 and creates the same clients as the function;
- the peer: the create-order handler as ran-isenberg/aws-lambda-handler-cookbook (the best-known Python
  Lambda style) writes it: Powertools' REST resolver with validation, Swagger and OpenAPI metadata,
  pydantic request/response/environment models, dynamic configuration through Powertools' feature flags
  (AppConfig, read per request), Powertools idempotency with its DynamoDB layer made at import,
  Logger/Tracer/Metrics. Reproduced here (PEER_FILES) on the same layer, so library versions match; its
  type-stub (mypy_boto3) and cachetools imports are left out, which only makes the peer faster.

Every round runs every subject once, in a shuffled order, so the shared machine's noise falls on all
alike; medians are reported and compared as ratios. The "without valid .pyc" variant runs the build with
every __pycache__ removed and bytecode writing off (what Lambda does with timestamp-checked .pyc from a
zip stamped 1980: recompiles on every cold start); it runs fewer rounds, being the slowest.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
FLOOR_GOAL = 1.5  # every function: init at most 1.5x a bare boto3 handler making the same clients
PEER_GOAL = 0.6  # every API function: init at most 0.6x the peer's create-order handler
PLACEHOLDER_VALUES = {"USER_POOL_ID": "eu-west-1_Bench", "USER_POOL_CLIENT_ID": "bench-client"}
# What the python3.13 Lambda runtime puts after /var/task and /opt/python: boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

# Runs in a fresh interpreter started with -S: time the import; optionally name the clients it created. The time
# is the process's CPU time: init is CPU-bound, and on a shared machine wall time mostly measures the neighbours.
CHILD = """
import json, sys, time
sys.path[:0] = sys.argv[1:3]
sys.path.append(sys.argv[4])
created = []
if sys.argv[3] == "discover":
    import botocore.session
    original = botocore.session.Session.create_client
    def recording(self, service_name, *args, **kwargs):
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)
    botocore.session.Session.create_client = recording
started = time.process_time()
import app
print(json.dumps({"ms": (time.process_time() - started) * 1000, "clients": created}))
"""

# The peer: the cookbook's create-order service, module for module (handler, observability, environment
# model, domain models, idempotency, data access, logic), written from its structure. What it imports and
# builds at import time is what a cold start pays; its request path is never run here.
PEER_FILES = {
    "service/__init__.py": "",
    "service/observability.py": """
from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics
from aws_lambda_powertools.tracing import Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="orders_kpi")
""",
    "service/env_vars.py": """
import functools
import os
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PositiveInt


class Observability(BaseModel):
    POWERTOOLS_SERVICE_NAME: Annotated[str, Field(min_length=1)]
    LOG_LEVEL: Literal["DEBUG", "INFO", "ERROR", "CRITICAL", "WARNING", "EXCEPTION"]


class Idempotency(BaseModel):
    IDEMPOTENCY_TABLE_NAME: Annotated[str, Field(min_length=1)]


class DynamicConfiguration(BaseModel):
    CONFIGURATION_APP: Annotated[str, Field(min_length=1)]
    CONFIGURATION_ENV: Annotated[str, Field(min_length=1)]
    CONFIGURATION_NAME: Annotated[str, Field(min_length=1)]
    CONFIGURATION_MAX_AGE_MINUTES: PositiveInt


class HandlerEnvVars(Observability, DynamicConfiguration, Idempotency):
    TABLE_NAME: Annotated[str, Field(min_length=1)]


@functools.cache
def environment(model):
    return model.model_validate(dict(os.environ))


def validated_environment(model):
    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(event, context):
            environment(model)
            return handler(event, context)

        return wrapper

    return decorate
""",
    "service/models.py": """
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, PositiveInt


class CreateOrderRequest(BaseModel):
    customer_name: Annotated[str, Field(min_length=1, max_length=20)]
    order_item_count: PositiveInt


class Order(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=20)]
    item_count: PositiveInt
    id: Annotated[str, Field(min_length=36, max_length=36)]


class CreateOrderOutput(Order):
    pass


class OrderEntry(BaseModel):
    id: UUID
    name: str
    item_count: int


class InternalServerErrorOutput(BaseModel):
    error: str = "internal server error"


class InternalServerException(Exception):
    pass
""",
    "service/dynamic_configuration.py": """
import functools
import os

from aws_lambda_powertools.utilities.feature_flags import AppConfigStore, FeatureFlags
from pydantic import BaseModel


class MyConfiguration(BaseModel):
    countries: list[str] = []


@functools.cache
def _store():
    return AppConfigStore(
        environment=os.environ["CONFIGURATION_ENV"],
        application=os.environ["CONFIGURATION_APP"],
        name=os.environ["CONFIGURATION_NAME"],
        max_age=int(os.environ["CONFIGURATION_MAX_AGE_MINUTES"]) * 60,
    )


def feature_flags():
    return FeatureFlags(store=_store())


def parse_configuration(model):
    return model.model_validate(_store().get_raw_configuration)
""",
    "service/idempotency.py": """
import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

IDEMPOTENCY_LAYER = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
IDEMPOTENCY_CONFIG = IdempotencyConfig(expires_after_seconds=5 * 60)
""",
    "service/dal.py": """
import functools
import uuid

import boto3
from botocore.exceptions import ClientError
from pydantic import ValidationError

from service.models import InternalServerException, OrderEntry
from service.observability import logger, tracer


class DynamoDalHandler:
    def __init__(self, table_name):
        self.table_name = table_name

    @functools.cached_property
    def table(self):
        return boto3.resource("dynamodb").Table(self.table_name)

    @tracer.capture_method(capture_response=False)
    def create_order_in_db(self, customer_name, order_item_count):
        try:
            entry = OrderEntry(id=uuid.uuid4(), name=customer_name, item_count=order_item_count)
            self.table.put_item(Item=entry.model_dump(mode="json"))
        except (ClientError, ValidationError) as error:
            logger.exception("failed to create order")
            raise InternalServerException("failed to create order") from error
        return entry


@functools.cache
def dal_handler(table_name):
    return DynamoDalHandler(table_name)
""",
    "service/logic.py": """
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from service.dal import dal_handler
from service.idempotency import IDEMPOTENCY_CONFIG, IDEMPOTENCY_LAYER
from service.models import CreateOrderOutput, CreateOrderRequest
from service.observability import logger, tracer


@idempotent_function(
    data_keyword_argument="order_request",
    config=IDEMPOTENCY_CONFIG,
    persistence_store=IDEMPOTENCY_LAYER,
    output_serializer=PydanticSerializer,
)
@tracer.capture_method(capture_response=False)
def create_order(order_request: CreateOrderRequest, table_name: str, context) -> CreateOrderOutput:
    IDEMPOTENCY_CONFIG.register_lambda_context(context)
    logger.info("creating order", extra={"order_item_count": order_request.order_item_count})
    entry = dal_handler(table_name).create_order_in_db(order_request.customer_name, order_request.order_item_count)
    return CreateOrderOutput(name=entry.name, item_count=entry.item_count, id=str(entry.id))
""",
    "app.py": """
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from service.dynamic_configuration import MyConfiguration, parse_configuration
from service.env_vars import HandlerEnvVars, environment, validated_environment
from service.logic import create_order
from service.models import CreateOrderOutput, CreateOrderRequest, InternalServerErrorOutput, InternalServerException
from service.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True)
app.enable_swagger(path="/swagger", title="Orders Service")


@app.exception_handler(InternalServerException)
def internal_server_error(error):
    logger.exception("finished handling request with internal error")
    return Response(
        status_code=HTTPStatus.INTERNAL_SERVER_ERROR,
        content_type=content_types.APPLICATION_JSON,
        body=InternalServerErrorOutput().model_dump(),
    )


@app.post(
    "/api/orders/",
    summary="Create an order",
    description="Create an order identified by the body payload",
    response_description="The created order",
    responses={
        200: {"description": "The created order", "content": {"application/json": {"model": CreateOrderOutput}}},
        501: {
            "description": "Internal server error",
            "content": {"application/json": {"model": InternalServerErrorOutput}},
        },
    },
    tags=["CRUD"],
)
def handle_create_order(
    create_input: Annotated[CreateOrderRequest, Body(embed=False, media_type="application/json")],
) -> CreateOrderOutput:
    env_vars = environment(HandlerEnvVars)
    configuration = parse_configuration(MyConfiguration)
    logger.debug("dynamic configuration", extra={"configuration": configuration.model_dump()})
    metrics.add_metric(name="ValidCreateOrderEvents", unit=MetricUnit.Count, value=1)
    return create_order(order_request=create_input, table_name=env_vars.TABLE_NAME, context=app.lambda_context)


@validated_environment(HandlerEnvVars)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event, context):
    return app.resolve(event, context)
""",
}
PEER_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "orders_kpi",
    "LOG_LEVEL": "INFO",
    "TABLE_NAME": "orders",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "CONFIGURATION_APP": "orders",
    "CONFIGURATION_ENV": "dev",
    "CONFIGURATION_NAME": "features",
    "CONFIGURATION_MAX_AGE_MINUTES": "5",
}


@dataclass
class Subject:
    """One thing whose import is timed: a code dir on top of a layer, in an environment."""

    name: str
    code_dir: Path
    layer_dir: Path
    environment: dict[str, str]
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Function:
    name: str
    code_dir: Path
    environment: dict[str, str]
    api: bool
    clients: list[str] = field(default_factory=list)
    variants: dict[str, Subject] = field(default_factory=dict)  # handler, floor, no-pyc


def build(build_dir: Path) -> None:
    # x86_64: the benchmark runs here, not on Graviton; the layer's Makefile reads ARCH.
    env = {**os.environ, "ARCH": "x86_64", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = ["sam", "build", "--build-dir", str(build_dir), "--parameter-overrides", "Architecture=x86_64"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603


def functions(build_dir: Path) -> list[Function]:
    template = yaml_parse((build_dir / "template.yaml").read_text())
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        variables = {
            **template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
            **resource["Properties"].get("Environment", {}).get("Variables", {}),
        }
        environment = {k: _resolve(k, v, template) for k, v in variables.items()}
        code_dir = build_dir / resource["Properties"]["CodeUri"]
        found.append(Function(name, code_dir, environment, _serves_an_api(name, resource, template)))
    return sorted(found, key=lambda f: f.name)


def _serves_an_api(name: str, resource: dict[str, Any], template: dict[str, Any]) -> bool:
    """Behind the REST or HTTP API (an Api/HttpApi event) or the WebSocket API (an ApiGatewayV2 integration)."""
    if any(e["Type"] in ("Api", "HttpApi") for e in resource["Properties"].get("Events", {}).values()):
        return True
    integrations = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Integration"]
    return any(name in json.dumps(r["Properties"].get("IntegrationUri", "")) for r in integrations)


def _resolve(key: str, value: Any, template: dict[str, Any]) -> str:
    """Plain strings as they are, parameters by their defaults, other references by a stand-in."""
    if isinstance(value, str):
        return value
    parameter = template.get("Parameters", {}).get(value.get("Ref", ""), {})
    return str(parameter.get("Default", PLACEHOLDER_VALUES.get(key, "bench")))


def lambda_environment(name: str, code_dir: Path, variables: dict[str, str]) -> dict[str, str]:
    """Roughly what Lambda's init phase sees; X-Ray tracing on, as the template sets it."""
    return {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only on Lambda
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        # The X-Ray SDK detects Lambda by this; elsewhere it builds centralized-sampling clients at init.
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        **{k: v for k, v in variables.items() if v},
    }


def runtime_packages(directory: Path) -> Path:
    """A stand-in for the runtime's own site-packages: boto3 and its dependencies, nothing else."""
    installed = Path(sysconfig.get_paths()["purelib"])
    directory.mkdir(parents=True)
    for name in RUNTIME_PACKAGES:
        (directory / name).symlink_to(installed / name)
    return directory


def import_once(subject: Subject, runtime: Path, mode: str = "time") -> dict[str, Any]:
    # -S: no site-packages but the layer's and the runtime's, as on Lambda.
    code, layer = str(subject.code_dir), str(subject.layer_dir)
    command = [sys.executable, "-S", "-c", CHILD, code, layer, mode, str(runtime)]
    result = subprocess.run(command, env=subject.environment, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise RuntimeError(f"importing {subject.code_dir}/app.py failed:\n{result.stderr}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def write_package(directory: Path, files: dict[str, str]) -> Path:
    """Generated code, with unchecked-hash .pyc as the layer ships them: its import is measured, not compiled."""
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip())
    compileall.compile_dir(directory, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return directory


def floor_handler(directory: Path, clients: list[str]) -> Path:
    lines = ["import boto3", *[f"client_{i} = boto3.client({s!r})" for i, s in enumerate(clients)]]
    return write_package(directory, {"app.py": "\n".join(lines) + "\n"})


def without_bytecode(build_dir: Path, target: Path) -> Path:
    shutil.copytree(build_dir, target)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    return target


@dataclass
class Measured:
    functions: list[Function]
    peer: Subject
    peer_floor: Subject
    runs: int
    stale_runs: int


def measure(build_dir: Path, runs: int, stale_runs: int, seed: int = 17) -> Measured:
    layer = build_dir / "SharedLayer" / "python"
    measured = functions(build_dir)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        stale = without_bytecode(build_dir, scratch / "no-pyc")
        runtime = runtime_packages(scratch / "runtime")
        peer_dir = write_package(scratch / "peer", PEER_FILES)
        peer_env = lambda_environment("PeerCreateOrder", peer_dir, PEER_ENVIRONMENT)
        peer = Subject("peer", peer_dir, layer, peer_env)
        peer_floor = Subject("peer floor", floor_handler(scratch / "floor" / "peer", ["dynamodb"]), layer, peer_env)
        for function in measured:
            env = lambda_environment(function.name, function.code_dir, function.environment)
            handler = Subject(function.name, function.code_dir, layer, env)
            function.clients = import_once(handler, runtime, mode="discover")["clients"]
            floor = floor_handler(scratch / "floor" / function.name, function.clients)
            stale_code = stale / function.code_dir.relative_to(build_dir)
            function.variants = {
                "handler": handler,
                "floor": Subject(f"{function.name} floor", floor, layer, env),
                "no-pyc": Subject(f"{function.name} no-pyc", stale_code, stale / "SharedLayer" / "python", env),
            }
        rng = random.Random(seed)  # noqa: S311 - shuffles the order of runs, nothing secret
        for round_number in range(runs):
            subjects = [peer, peer_floor]
            for function in measured:
                subjects += [function.variants["handler"], function.variants["floor"]]
                if round_number < stale_runs:
                    subjects.append(function.variants["no-pyc"])
            rng.shuffle(subjects)
            for subject in subjects:
                subject.samples.append(import_once(subject, runtime)["ms"])
            print(f"  round {round_number + 1}/{runs} done", file=sys.stderr, flush=True)
    return Measured(measured, peer, peer_floor, runs, stale_runs)


def report(measured: Measured) -> str:
    peer, peer_floor = measured.peer.median, measured.peer_floor.median
    header = (
        f"Cold init (CPU time), median of {measured.runs} fresh processes each (shuffled rounds; without valid .pyc: "
        f"{measured.stale_runs}), x86_64, X-Ray tracing on.\n"
        f"Peer (cookbook create-order handler, generated): {peer:.0f} ms; its floor (boto3 + dynamodb client): "
        f"{peer_floor:.0f} ms; peer / floor = {peer / peer_floor:.2f}.\n\n"
        f"| function | clients | handler init | floor init | x floor (goal ≤ {FLOOR_GOAL}) "
        f"| x peer (goal ≤ {PEER_GOAL}, API) | without valid .pyc |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    rows = []
    for f in measured.functions:
        handler, floor = f.variants["handler"].median, f.variants["floor"].median
        stale = f.variants["no-pyc"].median
        to_floor, to_peer = handler / floor, handler / peer
        floor_verdict = "ok" if to_floor <= FLOOR_GOAL else "OVER"
        peer_verdict = ("ok" if to_peer <= PEER_GOAL else "OVER") if f.api else "-"
        clients = ", ".join(f.clients) or "none"
        rows.append(
            f"| {f.name} | {clients} | {handler:.0f} ms | {floor:.0f} ms | {to_floor:.2f} {floor_verdict} "
            f"| {to_peer:.2f} {peer_verdict} | {stale:.0f} ms |"
        )
    return "\n".join([header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stale-runs", type=int, default=2, help="rounds that also time the build without .pyc")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--no-build", action="store_true", help="reuse an existing --build-dir")
    args = parser.parse_args(argv)
    if not args.no_build:
        print(f"building into {args.build_dir} ...", flush=True)
        build(args.build_dir)
    print(report(measure(args.build_dir, args.runs, min(args.stale_runs, args.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
