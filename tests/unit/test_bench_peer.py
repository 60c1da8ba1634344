"""The benchmark's generated peer is a working handler of the cookbook's shape, not a stand-in that imports little."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tools import bench

PROBE = """
import json, sys
import app
print(json.dumps({
    "routes": sorted(f"{r.method} {r.rule.pattern}" for r in app.app._static_routes + app.app._dynamic_routes),
    "loaded": [m for m in sys.argv[1:] if m in sys.modules],
}))
"""
COOKBOOK_STACK = [
    "aws_lambda_powertools.event_handler.openapi.params",
    "aws_lambda_powertools.utilities.idempotency.persistence.dynamodb",
    "aws_lambda_powertools.utilities.feature_flags",
    "aws_lambda_powertools.utilities.idempotency.serialization.pydantic",
    "aws_xray_sdk.core",
    "boto3",
    "pydantic",
]


def test_the_peer_imports_the_cookbook_stack_and_serves_its_create_order_route(tmp_path: Path) -> None:
    peer = bench.write_package(tmp_path / "peer", bench.PEER_FILES)
    env = {
        **bench.lambda_environment("PeerCreateOrder", peer, bench.PEER_ENVIRONMENT),
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(peer),
    }
    ran = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE, *COOKBOOK_STACK], env=env, cwd=peer, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    probed = json.loads(ran.stdout.strip().splitlines()[-1])
    assert probed["loaded"] == COOKBOOK_STACK
    assert any(route.startswith("POST ") and "/api/orders/" in route for route in probed["routes"])
    assert list(peer.rglob("*.pyc")), "the peer ships compiled bytecode, as the layer does"
