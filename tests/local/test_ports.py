"""`make local` takes its three ports before anything starts: a busy one stops it at once with the port and the
`make` variable that moves it, instead of provisioning into (or serving beside) another stack."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.local.ports import PortBusy
from tools.local.server import LocalStack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on (another stack's moto, say)."""
    with socket.create_server(("127.0.0.1", 0)) as other:
        yield other.getsockname()[1]


def free_ports(count: int) -> list[int]:
    probes = [socket.create_server(("127.0.0.1", 0)) for _ in range(count)]
    ports = [probe.getsockname()[1] for probe in probes]
    for probe in probes:
        probe.close()
    return ports


@pytest.mark.parametrize("variable", ["PORT", "WS_PORT", "AWS_PORT"])
def test_a_busy_port_stops_the_start_at_once_naming_the_port_and_its_make_variable(
    busy_port: int, variable: str, tmp_path: Path
) -> None:
    api, websocket, aws = free_ports(3)
    ports = {"PORT": api, "WS_PORT": websocket, "AWS_PORT": aws} | {variable: busy_port}
    stack = LocalStack(
        port=ports["PORT"], websocket_port=ports["WS_PORT"], aws_port=ports["AWS_PORT"], state_dir=tmp_path
    )

    with pytest.raises(PortBusy) as refused:
        stack.start()

    assert stack.endpoint == ""  # no AWS endpoint was ever used, ours or another's
    assert stack.launched is None  # nor moto's server or the zygote started
    assert (refused.value.port, refused.value.variable) == (busy_port, variable)
    assert f"port {busy_port} ({variable}) is already in use" in str(refused.value)
    assert f"make local {variable}=" in str(refused.value)
    for port in (api, websocket, aws):  # what it took before failing is given back
        socket.create_server(("127.0.0.1", port)).close()


def a_free_port_before_a_busy_one() -> tuple[int, socket.socket]:
    while True:
        taken = socket.create_server(("127.0.0.1", 0))
        below = taken.getsockname()[1] - 1
        try:
            socket.create_server(("127.0.0.1", below)).close()
        except OSError:
            taken.close()
            continue
        return below, taken


def test_the_websocket_port_defaults_to_the_one_after_the_api_port(tmp_path: Path) -> None:
    api, taken = a_free_port_before_a_busy_one()
    with taken, pytest.raises(PortBusy) as refused:
        LocalStack(port=api, aws_port=0, state_dir=tmp_path).start()

    assert (refused.value.port, refused.value.variable) == (api + 1, "WS_PORT")


def test_make_local_with_a_busy_aws_port_exits_with_the_message(busy_port: int, tmp_path: Path) -> None:
    api, websocket = free_ports(2)
    ports = ["--port", str(api), "--websocket-port", str(websocket), "--aws-port", str(busy_port)]
    finished = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tools.local", *ports],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode != 0
    assert f"make local: port {busy_port} (AWS_PORT) is already in use" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_make_local_passes_its_port_variables_to_the_stack() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "local", "PORT=3400", "WS_PORT=3499", "AWS_PORT=5400"],  # noqa: S607 - make on PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert "python -m tools.local --port 3400 --websocket-port 3499 --aws-port 5400" in dry_run.stdout
