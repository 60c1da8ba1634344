"""Cold-init benchmark: every handler against a bare boto3 handler, with and without valid bytecode.

    python -m tools.bench [--runs 15] [--build-dir build/bench]

For each function of the built template, a fresh interpreter imports the handler the way Lambda's init
phase does (/var/task = the function's build dir, then /opt/python = the layer, then the runtime's
boto3) and reports how long `import app` took: imports plus module-level setup such as client creation.
The bare baseline is a generated handler that imports boto3 and creates the same clients. Runs are
interleaved, so the shared machine's noise falls on every variant alike; medians are reported.

A third variant runs the same build with every __pycache__ removed and bytecode writing off: that is
what Lambda does with timestamp-checked .pyc from a zip stamped 1980 (recompiles on every cold start).
"""

from __future__ import annotations

import argparse
import json
import os
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
GOAL_RATIO = 1.25
PLACEHOLDER_VALUES = {"USER_POOL_ID": "eu-west-1_Bench", "USER_POOL_CLIENT_ID": "bench-client"}
# What the python3.13 Lambda runtime puts after /var/task and /opt/python: boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

# Runs in a fresh interpreter started with -S: time the import; optionally name the clients it created.
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
started = time.perf_counter()
import app
print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "clients": created}))
"""


@dataclass
class Function:
    name: str
    code_dir: Path
    environment: dict[str, str]
    clients: list[str] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, variant: str) -> float:
        return statistics.median(self.samples[variant])


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
        found.append(Function(name, build_dir / resource["Properties"]["CodeUri"], environment))
    return sorted(found, key=lambda f: f.name)


def _resolve(key: str, value: Any, template: dict[str, Any]) -> str:
    """Plain strings as they are, parameters by their defaults, other references by a stand-in."""
    if isinstance(value, str):
        return value
    parameter = template.get("Parameters", {}).get(value.get("Ref", ""), {})
    return str(parameter.get("Default", PLACEHOLDER_VALUES.get(key, "bench")))


def lambda_environment(function: Function) -> dict[str, str]:
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
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        # The X-Ray SDK detects Lambda by this; elsewhere it builds centralized-sampling clients at init.
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        **{k: v for k, v in function.environment.items() if v},
    }


def runtime_packages(directory: Path) -> Path:
    """A stand-in for the runtime's own site-packages: boto3 and its dependencies, nothing else."""
    installed = Path(sysconfig.get_paths()["purelib"])
    directory.mkdir(parents=True)
    for name in RUNTIME_PACKAGES:
        (directory / name).symlink_to(installed / name)
    return directory


def import_once(
    code_dir: Path, layer_dir: Path, runtime: Path, env: dict[str, str], mode: str = "time"
) -> dict[str, Any]:
    # -S: no site-packages but the layer's and the runtime's, as on Lambda.
    command = [sys.executable, "-S", "-c", CHILD, str(code_dir), str(layer_dir), mode, str(runtime)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise RuntimeError(f"importing {code_dir}/app.py failed:\n{result.stderr}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def bare_handler(directory: Path, clients: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["import boto3", *[f"client_{i} = boto3.client({s!r})" for i, s in enumerate(clients)]]
    (directory / "app.py").write_text("\n".join(lines) + "\n")
    return directory


def without_bytecode(build_dir: Path, target: Path) -> Path:
    shutil.copytree(build_dir, target)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    return target


def measure(build_dir: Path, runs: int) -> list[Function]:
    layer = build_dir / "SharedLayer" / "python"
    measured = functions(build_dir)
    with tempfile.TemporaryDirectory() as scratch:
        stale = without_bytecode(build_dir, Path(scratch) / "no-pyc")
        runtime = runtime_packages(Path(scratch) / "runtime")
        for function in measured:
            env = lambda_environment(function)
            function.clients = import_once(function.code_dir, layer, runtime, env, mode="discover")["clients"]
            bare = bare_handler(Path(scratch) / "bare" / function.name, function.clients)
            variants = {
                "handler": (function.code_dir, layer),
                "bare": (bare, layer),
                "no-pyc": (stale / function.code_dir.relative_to(build_dir), stale / "SharedLayer" / "python"),
            }
            function.samples = {variant: [] for variant in variants}
            for _ in range(runs):
                for variant, (code_dir, layer_dir) in variants.items():
                    function.samples[variant].append(import_once(code_dir, layer_dir, runtime, env)["ms"])
    return measured


def report(measured: list[Function], runs: int) -> str:
    header = (
        f"Cold init, median of {runs} fresh processes each (interleaved), x86_64, X-Ray tracing on:\n\n"
        "| function | clients | handler init | bare boto3 init | ratio (goal ≤ 1.25) "
        "| without valid .pyc | .pyc gain |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    rows = []
    for f in measured:
        handler, bare, stale = f.median("handler"), f.median("bare"), f.median("no-pyc")
        ratio = handler / bare
        verdict = "ok" if ratio <= GOAL_RATIO else "OVER"
        clients = ", ".join(f.clients) or "none"
        rows.append(
            f"| {f.name} | {clients} | {handler:.0f} ms | {bare:.0f} ms | {ratio:.2f} {verdict} | "
            f"{stale:.0f} ms | {stale / handler:.1f}x |"
        )
    return "\n".join([header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--no-build", action="store_true", help="reuse an existing --build-dir")
    args = parser.parse_args(argv)
    if not args.no_build:
        print(f"building into {args.build_dir} ...", flush=True)
        build(args.build_dir)
    print(report(measure(args.build_dir, args.runs), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
