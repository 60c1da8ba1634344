"""The local backend.

python -m tools.local [--port 3000] [--websocket-port 3001] [--aws-port 5000]   start it (Ctrl-C stops it)
python -m tools.local --faults aws [--faults-seed 0] [--faults-time-scale 1]  under AWS's weather
python -m tools.local token --as customer|admin          an ID token for a seeded user
python -m tools.local token --as admin --access          the admin's access token (POST /writer)
python -m tools.local token --as machine                 a batch job's access token (POST /writer)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

# The gateway verifies tokens with the layer's own verifier: put the layer on the path, as pytest does.
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from tools.local.faults import FaultProfile, UnknownFault  # noqa: E402
from tools.local.launch import launch  # noqa: E402 - light: the heavy imports wait until moto is starting
from tools.local.ports import PortBusy  # noqa: E402


def serve(port: int, websocket_port: int | None, aws_port: int, state_dir: Path, faults: FaultProfile) -> int:
    try:
        launched = launch(port, websocket_port, aws_port)
    except PortBusy as busy:
        raise SystemExit(f"make local: {busy}") from None
    from tools.local.server import LocalStack  # imported while moto's server and the zygote start

    stack = LocalStack(
        launched=launched, state_dir=state_dir, faults=faults, log=lambda line: print(line, flush=True)
    ).start()
    print(stack.banner(), flush=True)
    stopped = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background job starts with it ignored
        signal.signal(stop_signal, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        print("stopping…", flush=True)
        stack.stop()
    return 0


def token(group: str, *, access: bool = False) -> int:
    import boto3

    from tools.local.server import state
    from tools.token import client_credentials

    local = state()
    if group == "machine":
        client = local["batchJobClient"]
        print(client_credentials(local["tokenEndpoint"], client["clientId"], client["clientSecret"]))
        return 0
    user = local["users"][group]
    cognito = boto3.client("cognito-idp", endpoint_url=local["aws"], region_name=local["region"])
    result = cognito.initiate_auth(
        ClientId=local["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
    )
    # An admin's access token carries `dropshop/pipeline.write`: moto's server ran the pool's trigger.
    print(result["AuthenticationResult"]["AccessToken" if access else "IdToken"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "token"])
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--websocket-port", type=int, default=None, help="default: the port after --port")
    parser.add_argument("--aws-port", type=int, default=5000, help="moto's server, the stack's AWS endpoint")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local", help="stack.json, env.json, function logs")
    parser.add_argument("--as", dest="group", default="customer", choices=["customer", "admin", "machine"])
    parser.add_argument("--access", action="store_true", help="token: the user's access token, not the ID token")
    parser.add_argument("--faults", default="off", help="aws, aws:-conflicts,-crashes, a list of faults, or off")
    parser.add_argument("--faults-seed", type=int, default=0, help="the faults' dice")
    parser.add_argument(
        "--faults-time-scale", type=float, default=1.0, help="AWS's delays divided by this (60: a minute is a second)"
    )
    args = parser.parse_args(argv)
    if args.command == "token":
        return token(args.group, access=args.access)
    try:
        faults = FaultProfile.from_spec(args.faults, seed=args.faults_seed, time_scale=args.faults_time_scale)
    except UnknownFault as unknown:
        parser.error(str(unknown))
    return serve(args.port, args.websocket_port, args.aws_port, args.state_dir, faults)


if __name__ == "__main__":
    sys.exit(main())
