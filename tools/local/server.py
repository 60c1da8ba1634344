"""The whole backend on 127.0.0.1, from template.yaml: moto's server as AWS, every function in its own
warm process, the APIs on one port, and the event sources the template declares pumping between them."""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

from tools import openapi
from tools.asyncapi import document as async_document
from tools.local.cors import LOCAL_ORIGINS, LocalCors
from tools.local.faults import MOTO_FAULTS, FaultProfile
from tools.local.gateway import Gateway, routes
from tools.local.launch import Launch, launch
from tools.local.oauth2 import TokenEndpoint
from tools.local.ports import port_of
from tools.local.runtime import LOCAL_CONCURRENCY, ROOT, Function, FunctionError, Zygote
from tools.local.stack import Stack, provision
from tools.local.swagger import swagger_ui
from tools.local.websocket import WebSocketGateway
from tools.local.wiring import QueueMapping, Wiring

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the gateway logs each request itself

REGION = "eu-west-1"
STATE_DIR = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local")  # tests run a stack of their own
DEMO_PASSWORD = "DropShop-Local-1"
DEMO_USERS = {
    "admin": {"username": "ada", "email": "ada@dropshop.local", "name": "Ada Admin"},
    "customer": {"username": "jane", "email": "jane@dropshop.local", "name": "Jane Customer"},
}
# How often an event source mapping polls: at once again while it finds work, then less often down to IDLE_POLL.
BUSY_POLL, IDLE_POLL = 0.05, 0.5
DEMO_FILE = ROOT / "events" / "transformer" / "files" / "accounts-2026-11-24.json"
# The catalog the sample events in events/products and events/orders refer to.
DEMO_PRODUCTS: list[dict[str, Any]] = [
    {"productId": "demo-enamel-mug", "name": "Enamel mug", "category": "kitchen", "price": 1250, "stock": 50},
    {"productId": "demo-desk-lamp", "name": "Desk lamp", "category": "living", "price": 4999, "stock": 10},
    {"productId": "demo-wool-throw", "name": "Wool throw", "category": "living", "price": 8900, "stock": 5},
]


def seed_catalog(stack: Stack) -> None:
    """The demo products, written through the catalog's repository (their ProductChanged events included)."""
    from dropshop.catalog.events import Change, product_changed
    from dropshop.catalog.model import Product
    from dropshop.catalog.repository import ProductRepository
    from dropshop.platform.clock import now_iso

    products = ProductRepository(
        stack.client("dynamodb"), stack.physical["ProductsTable"], stack.physical["OutboxTable"]
    )
    now = now_iso()
    for demo in DEMO_PRODUCTS:
        price = {"amount": demo["price"], "currency": "EUR"}
        product = Product.model_validate({**demo, "price": price, "createdAt": now, "updatedAt": now})
        products.add(product, product_changed(product, Change.CREATED))


# The order the sample events in events/invoice, events/websocket and events/orders refer to: the demo
# customer's, placed at start-up, so the worker confirms it, invoicing issues its PDF and an e-mail goes out.
DEMO_ORDER_ID = "0b5e7c1a-3f5d-4a8e-9c61-2d4f8e9a7b10"


def seed_order(stack: Stack, customer_id: str) -> None:
    """The demo order (two enamel mugs), written through the orders' repository with its stock and event."""
    from dropshop.catalog.model import Money
    from dropshop.catalog.repository import ProductRepository
    from dropshop.catalog.vat import VatCategory
    from dropshop.catalog.vat import rate as vat_rate
    from dropshop.orders.events import order_placed
    from dropshop.orders.model import Order, OrderLine, OrderStatus
    from dropshop.orders.repository import OrderRepository
    from dropshop.platform.clock import now_iso

    dynamodb, outbox = stack.client("dynamodb"), stack.physical["OutboxTable"]
    mug = DEMO_PRODUCTS[0]
    price = Money(amount=mug["price"], currency="EUR")
    line = OrderLine(
        product_id=mug["productId"],
        name=mug["name"],
        quantity=2,
        unit_price=price,
        total=price.times(2),
        vat_category=VatCategory.STANDARD,  # the demo catalog's default
        vat_rate=vat_rate(VatCategory.STANDARD),
    )
    now = now_iso()
    order = Order(
        order_id=DEMO_ORDER_ID,
        customer_id=customer_id,
        status=OrderStatus.PLACED,
        lines=[line],
        total=line.total,
        placed_at=now,
        updated_at=now,
        updated_by=customer_id,
    )
    products = ProductRepository(dynamodb, stack.physical["ProductsTable"], outbox)
    stock = products.reserve_stock(line.product_id, line.quantity, line.unit_price, line.vat_category)
    OrderRepository(dynamodb, stack.physical["OrdersTable"], outbox).add(order, [stock], order_placed(order))


def deployment_hooks(stack: Stack) -> set[str]:
    """Functions CodeDeploy runs around a deployment (PreTraffic, PostTraffic): nothing invokes them locally."""
    return {
        hook["Ref"]
        for function in stack.of_type("AWS::Serverless::Function").values()
        for hook in function["Properties"].get("DeploymentPreference", {}).get("Hooks", {}).values()
        if isinstance(hook, dict) and "Ref" in hook
    }


def _warm(function: Function) -> str | None:
    try:
        function.warm()
    except Exception as error:  # its invocations will fail the same way, as Lambda's Runtime.InitError
        return f"{type(error).__name__}: {error}"
    return None


def concurrency_of(stack: Stack, function: str, *, cap: int) -> int:
    """How many workers a function may run at once: the local cap, or its reserved concurrency when lower.
    A reservation of 0 (throttled on AWS) still gets one worker: locally a function is there to be called."""
    properties = stack.template.get("Globals", {}).get("Function", {}) | stack.resources[function]["Properties"]
    reserved = stack.resolve(properties.get("ReservedConcurrentExecutions"))
    return cap if reserved is None else max(1, min(cap, int(reserved)))


@dataclass
class LocalStack:
    port: int = 3000  # 0 (for any of the ports): any free port
    websocket_port: int | None = None  # the port after `port` unless given
    aws_port: int = 0
    log: Callable[[str], None] = print
    seed: bool = True
    state_dir: Path = STATE_DIR
    concurrency: int = LOCAL_CONCURRENCY  # workers per function at most (less where the template reserves less)
    idle_timeout: float = 60.0  # seconds before an idle extra worker retires
    parameters: dict[str, str] = field(default_factory=dict)  # the template's parameters (FrontendOrigin, ...)
    origins: tuple[str, ...] = LOCAL_ORIGINS  # the browser origins the local APIs admit (`*`: any port)
    faults: FaultProfile = field(default_factory=FaultProfile)  # AWS's weather (tools.local.faults): off by default
    launched: Launch | None = None  # ports, moto and the zygote (started before the stack by `python -m tools.local`)
    stack: Stack | None = None
    endpoint: str = ""
    functions: dict[str, Function] = field(default_factory=dict)
    _zygote: Zygote | None = None
    _exits: ExitStack = field(default_factory=ExitStack)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _http: BaseWSGIServer | None = None
    _websockets: WebSocketGateway | None = None
    _serving: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.websocket_port}"

    def start(self) -> LocalStack:
        try:
            return self._start()
        except BaseException:
            self.stop()  # a half-started stack must not leave moto's server or workers behind
            raise

    def _start(self) -> LocalStack:
        started = time.monotonic()
        self.state_dir.mkdir(exist_ok=True)
        # The ports first: a busy one stops the start before anything runs (and before another stack is reached).
        self.launched = launched = self.launched or launch(self.port, self.websocket_port, self.aws_port)
        self._exits.callback(launched.stop)
        self.port, self.websocket_port = port_of(launched.api), port_of(launched.websocket)
        self._zygote = launched.zygote  # imports the functions' shared libraries while moto starts and we provision
        self.endpoint = launched.moto.wait_until_up()
        api, websocket = launched.api, launched.websocket
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
        self.stack = provision(session, name="dropshop-local", endpoint_url=self.endpoint, overrides=self.parameters)
        self.stack.shared_clients = True
        self._bind_apis(api, websocket)  # first: the functions' environment names the ports the APIs got
        self._define_functions()
        threading.Thread(target=self._warm_up, args=(started,), name="warm-up", daemon=True).start()
        if self.seed:
            self._seed()
        wiring = Wiring(self.stack, invoker=self.invoke, faults=self.faults, stopped=self._stopping)
        self._moto_faults({"faults": self.faults.spec, "seed": self.faults.seed})  # after the seeding: it must not fail
        self._exits.callback(self._stopping.set)
        self._start_event_sources(wiring)
        threading.Thread(target=self._retire_idle_workers, name="scale-in", daemon=True).start()
        self._serve_apis()
        self._write_state()
        self.log(f"ready in {time.monotonic() - started:.1f} s (functions still starting are waited for)")
        return self

    def stop(self) -> None:
        self._stopping.set()  # the event sources first: no invocation starts a worker while they stop
        if self._http is not None:
            if self._serving:
                self._http.shutdown()  # waits for serve_forever: only if it ever ran
            self._http.server_close()
        if self._websockets is not None:
            self._websockets.stop()
        for function in self.functions.values():
            function.stop()
        self._exits.close()  # the zygote, moto's server, the ports

    def invoke(
        self, function: str, event: dict[str, Any], *, crash_after: bool = False, request_id: str | None = None
    ) -> Any:
        started = time.monotonic()
        outcome = "ok"
        try:
            return self.functions[function].invoke(event, crash_after=crash_after, request_id=request_id)
        except FunctionError as error:
            outcome = f"{error.error['errorType']}: {error.error['errorMessage']}"[:160]
            if error.error["errorType"] == "Sandbox.Timedout":
                self.faults.count("timeouts")
            raise
        finally:
            self.log(f"λ {function:22} {(time.monotonic() - started) * 1000:6.0f} ms  {outcome}")

    def openapi(self) -> dict[str, Any]:
        """The REST API's document (docs/openapi.json), merged from the functions this stack runs, and where
        this stack serves it."""
        described = []
        for function in self.functions.values():
            _, document = function.call("openapi")
            if isinstance(document, str):
                described.append(json.loads(document))
        return openapi.merged(described) | {"servers": [{"url": self.url}]}

    # ------------------------------------------------------------------ parts

    def _define_functions(self) -> None:
        """Every function the template invokes (not CodeDeploy's hooks: no deployments here), none started yet."""
        assert self.stack is not None
        assert self._zygote is not None
        logs = self.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        for name, resource in self.stack.of_type("AWS::Serverless::Function").items():
            if name in deployment_hooks(self.stack):
                continue
            environment = self._local_urls(self.stack.environment(name)) | {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_LAMBDA_FUNCTION_NAME": name,
                # No X-Ray daemon here; SAM's local runs switch tracing off the same way.
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
            code_dir = ROOT / resource["Properties"]["CodeUri"]
            self.functions[name] = Function(
                name,
                code_dir,
                environment,
                logs / f"{name}.log",
                self._zygote,
                concurrency=concurrency_of(self.stack, name, cap=self.concurrency),
                log=self.log,
                timeout=self.stack.timeout(name) if self.faults.on("timeouts") else None,
                context_timeout=self.stack.timeout(name),
            )

    def _warm_up(self, started: float) -> None:
        """One worker per function, from the seeding on: the APIs' functions first, one init at a time, so the
        seeding and the first requests and events keep a core. An invocation that comes first starts its
        function itself (or waits for its warm-up)."""
        assert self.stack is not None
        assert self._websockets is not None
        behind_apis = {route.function for route in routes(self.stack)}
        behind_apis |= {route.function for route in self._websockets.api.routes.values()}
        order = sorted(self.functions.values(), key=lambda function: function.name not in behind_apis)
        for function in order:
            if failure := _warm(function):
                self.log(f"λ {function.name:22} init failed: {failure}")
        self.log(f"all functions warm in {time.monotonic() - started:.1f} s")

    def _retire_idle_workers(self) -> None:
        reported: dict[str, int] = {}
        while not self._stopping.wait(1.0):
            for function in self.functions.values():
                function.retire_idle(self.idle_timeout)
            if self.faults.enabled:
                try:
                    reported = self._report_faults(reported)
                except OSError as error:  # moto's server busy or stopping: the next second tells
                    self.log(f"faults: {type(error).__name__}: {error}")

    def fault_counts(self) -> dict[str, int]:
        """What fired so far: the stack's own faults and moto's server's (DynamoDB's refusals)."""
        fired = self.faults.counts()
        if self.faults.enabled & MOTO_FAULTS:
            moto = self._moto_faults()
            fired |= {name: count for name, count in moto.items() if name != "enabled"}
        return fired

    def _report_faults(self, reported: dict[str, int]) -> dict[str, int]:
        """A console line when more faults fired, and .local/faults.json, for whoever wants to see the weather."""
        fired = self.fault_counts()
        if fired != reported:
            self.log("⚡ faults fired: " + ", ".join(f"{name} {count}" for name, count in sorted(fired.items())))
            (self.state_dir / "faults.json").write_text(json.dumps({"enabled": self.faults.spec} | fired, indent=2))
        return fired

    def _moto_faults(self, turn_on: dict[str, Any] | None = None) -> dict[str, Any]:
        """moto's server's DynamoDB faults: turned on (POST), or what fired (GET)."""
        data = None if turn_on is None else json.dumps(turn_on).encode()
        request = urllib.request.Request(f"{self.endpoint}/_local/faults", data=data)  # noqa: S310 - our moto
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our moto
            counts: dict[str, Any] = json.loads(answer.read())
        return counts

    def _bind_apis(self, api: socket.socket, websocket: socket.socket) -> None:
        """The REST and HTTP APIs (and the WebSocket Management API) on `port`, the WebSocket API beside it."""
        assert self.stack is not None
        jwks = f"{self.endpoint}/{self.stack.physical['UserPool']}/.well-known/jwks.json"
        self._websockets = WebSocketGateway(self.stack, self.invoke, log=self.log)
        gateway = Gateway(
            self.stack, self.invoke, jwks_url=jwks, log=self.log, openapi=self.openapi, connections=self._websockets
        )
        # The user pool domain's token endpoint (batch jobs' client credentials) answers beside the APIs.
        pool = self.stack.physical["UserPool"]
        tokens = TokenEndpoint(self.stack.client("cognito-idp"), pool, REGION)
        # The WebSocket protocol's AsyncAPI document beside the REST API's OpenAPI one, naming this stack's port.
        asyncapi = Response(
            json.dumps(async_document(f"127.0.0.1:{self.websocket_port}")), content_type="application/json"
        )
        beside: dict[str, Any] = {"/swagger": swagger_ui(), "/oauth2": tokens, "/asyncapi.json": asyncapi}
        apis = LocalCors(DispatcherMiddleware(gateway, beside), self.origins)
        with api:  # werkzeug serves a duplicate of the listening socket
            self._http = make_server("127.0.0.1", self.port, apis, threaded=True, fd=api.fileno())
        self._websockets.bind(websocket)

    def _serve_apis(self) -> None:
        assert self._http is not None
        assert self._websockets is not None
        threading.Thread(target=self._http.serve_forever, name="api-gateway", daemon=True).start()
        self._serving = True
        self._websockets.serve()

    def _local_urls(self, environment: dict[str, str]) -> dict[str, str]:
        """The WebSocket API's AWS endpoint (what functions push through) is this gateway."""
        assert self.stack is not None
        assert self._websockets is not None
        aws_endpoint = (
            f"https://{self.stack.physical[self._websockets.api.logical_id]}.execute-api.{REGION}.amazonaws.com"
        )
        return {key: value.replace(aws_endpoint, self.url) for key, value in environment.items()}

    def _start_event_sources(self, wiring: Wiring) -> None:
        """Lambda's pollers: per SQS event source mapping, up to its MaximumConcurrency batches at once (one
        poller each, as many as the function has workers), one per stream mapping, and S3 → EventBridge, until
        the stack stops."""
        seen: set[tuple[str, str, str]] = set()

        def new_objects() -> int:
            delivered = 0
            for bucket, key, version in self._new_objects(seen):
                wiring.deliver(wiring.object_created_event(bucket, key, version))
                delivered += 1
            return delivered

        pollers: list[tuple[str, Callable[[], int]]] = [("S3 → EventBridge", new_objects)]
        for mapping in wiring.queue_mappings():
            # A mapping's further pollers (the `reorder` fault's concurrent batches) join in while the first finds
            # messages, as Lambda scales with a backlog: idle, they send moto's SQS (which scans its messages on
            # every receive) nothing.
            backlog = threading.Event()
            pollers.append((f"{mapping.function} ← SQS", functools.partial(_first_poll, wiring, mapping, backlog)))
            pollers += [
                (f"{mapping.function} ← SQS #{n}", functools.partial(_further_poll, wiring, mapping, backlog))
                for n in range(
                    2,
                    min(wiring.pollers(mapping), concurrency_of(wiring.stack, mapping.function, cap=self.concurrency))
                    + 1,
                )
            ]
        pollers += [
            (f"{m.function} ← stream", functools.partial(wiring.poll_stream, m)) for m in wiring.stream_mappings()
        ]
        for name, poll in pollers:
            threading.Thread(target=self._keep_polling, args=(name, poll), name=name, daemon=True).start()

    def _keep_polling(self, name: str, poll: Callable[[], int]) -> None:
        """Poll back to back while there is work, backing off to IDLE_POLL seconds when there is none."""
        pause = BUSY_POLL
        while not self._stopping.is_set():
            try:
                delivered = poll()
            except Exception as error:  # keep polling: one bad delivery must not stop the backend
                self.log(f"{name}: {type(error).__name__}: {error}")
                delivered = 0
            pause = BUSY_POLL if delivered else min(pause * 2, IDLE_POLL)
            if not delivered:
                self._stopping.wait(pause)

    def _new_objects(self, seen: set[tuple[str, str, str]]) -> Iterator[tuple[str, str, str | None]]:
        """(bucket, key, version id) per version written, as S3 sends EventBridge one event per version
        (ev-events.html); the version id is None in a bucket without versioning."""
        assert self.stack is not None
        s3 = self.stack.client("s3")
        for name, bucket in self.stack.of_type("AWS::S3::Bucket").items():
            notifications = bucket["Properties"].get("NotificationConfiguration", {})
            if not notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
                continue
            physical = self.stack.physical[name]
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=physical)
            listed = [version for page in pages for version in page.get("Versions", [])]
            # S3 lists each key's versions newest first: oldest first here, as they were written.
            for version in reversed(listed):
                identity = (physical, version["Key"], version["VersionId"])
                if identity not in seen:
                    seen.add(identity)
                    yield physical, version["Key"], None if version["VersionId"] == "null" else version["VersionId"]

    def _seed(self) -> None:
        assert self.stack is not None
        cognito = self.stack.client("cognito-idp")
        pool = self.stack.physical["UserPool"]
        subs = {}
        for group, user in DEMO_USERS.items():
            created = cognito.admin_create_user(
                UserPoolId=pool,
                Username=user["username"],
                UserAttributes=[
                    {"Name": "email", "Value": user["email"]},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "name", "Value": user["name"]},
                ],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=pool, Username=user["username"], Password=DEMO_PASSWORD, Permanent=True
            )
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=user["username"], GroupName=group)
            subs[group] = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
        self.stack.client("s3").put_object(
            Bucket=self.stack.physical["DataBucket"], Key=f"incoming/{DEMO_FILE.name}", Body=DEMO_FILE.read_bytes()
        )
        seed_catalog(self.stack)
        seed_order(self.stack, subs["customer"])

    def _write_state(self) -> None:
        """What other tools need to reach this stack: `make token`, `sam local --env-vars`."""
        assert self.stack is not None
        state = {
            "api": self.url,
            "websocket": self.websocket_url,
            "aws": self.endpoint,
            "region": REGION,
            "userPoolId": self.stack.physical["UserPool"],
            "userPoolClientId": self.stack.physical["UserPoolClient"],
            "tokenEndpoint": f"{self.url}/oauth2/token",
            "batchJobClient": self._batch_job_client(),
            "dataBucket": self.stack.physical["DataBucket"],
            "logTable": self.stack.physical["LogTable"],
            "users": {group: {**user, "password": DEMO_PASSWORD} for group, user in DEMO_USERS.items()},
            "faults": {"enabled": self.faults.spec, "seed": self.faults.seed, "timeScale": self.faults.time_scale},
        }
        (self.state_dir / "stack.json").write_text(json.dumps(state, indent=2))
        env_vars = {name: function.environment for name, function in self.functions.items()}
        (self.state_dir / "env.json").write_text(json.dumps(env_vars, indent=2))

    def _batch_job_client(self) -> dict[str, str]:
        assert self.stack is not None
        client = self.stack.client("cognito-idp").describe_user_pool_client(
            UserPoolId=self.stack.physical["UserPool"], ClientId=self.stack.physical["BatchJobClient"]
        )["UserPoolClient"]
        return {"clientId": client["ClientId"], "clientSecret": client["ClientSecret"]}

    def banner(self) -> str:
        assert self.stack is not None
        users = "\n".join(
            f"    {group:9} {user['username']} / {DEMO_PASSWORD}   (make token AS={group})"
            for group, user in DEMO_USERS.items()
        )
        return (
            f"Drop Shop backend on {self.url}\n"
            f"  REST API:      {self.url}/session  /telemetry  /files  /products  /orders\n"
            f"  HTTP API:      {self.url}/writer   (batch jobs and admins: make token AS=machine)\n"
            f"  token endpoint: {self.url}/oauth2/token   (client credentials, as the user pool domain)\n"
            f"  WebSocket API: {self.websocket_url}/?token=<ID token>   (order status pushes; make token AS=customer)\n"
            f"  Swagger UI:    {self.url}/swagger   (OpenAPI: {self.url}/openapi.json)\n"
            f"  AWS (moto):    {self.endpoint}   (aws --endpoint-url {self.endpoint} ...)\n"
            f"  data bucket:   s3://{self.stack.physical['DataBucket']}/incoming/  (JSON/NDJSON feed the pipeline)\n"
            f"  users:\n{users}\n"
            f"  function logs: {self.state_dir / 'logs'}/<Function>.log\n"
            f"  AWS faults:    {self.faults.spec}   (what fired: {self.state_dir / 'faults.json'})\n"
            f"Ctrl-C stops everything."
        )


def _first_poll(wiring: Wiring, mapping: QueueMapping, backlog: threading.Event) -> int:
    delivered = wiring.poll(mapping)
    (backlog.set if delivered else backlog.clear)()
    return delivered


def _further_poll(wiring: Wiring, mapping: QueueMapping, backlog: threading.Event) -> int:
    return wiring.poll(mapping) if backlog.is_set() else 0


def state() -> dict[str, Any]:
    path = STATE_DIR / "stack.json"
    if not path.exists():
        raise SystemExit("no local stack state: start it with `make local`")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded
