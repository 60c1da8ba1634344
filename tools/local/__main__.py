"""The local backend.

python -m tools.local [--port 3000] [--websocket-port 3001] [--aws-port 5000]   start it (Ctrl-C stops it)
python -m tools.local --faults aws [--faults-seed 0] [--faults-time-scale 1]  under AWS's weather
python -m tools.local token --as customer|admin          an ID token for a seeded user
python -m tools.local token --as admin --access          the admin's access token (POST /writer)
python -m tools.local token --as machine                 a batch job's access token (POST /writer)
python -m tools.local start-api [--port 3002] [-- SAM ARGS]  `sam local start-api` on the running stack's data
python -m tools.local upload FILE                        a file into the data bucket's incoming/ (the pipeline)
python -m tools.local download invoice|credit-note ORDER  wait for the document, save its PDF in downloads/
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

# The gateway verifies tokens with the layer's own verifier: put the layer on the path, as pytest does.
ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local")  # tests run a stack of their own
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from tools.local.faults import FaultProfile, UnknownFault  # noqa: E402
from tools.local.launch import launch  # noqa: E402 - light: the heavy imports wait until moto is starting
from tools.local.ports import PortBusy  # noqa: E402


def serve(
    port: int, websocket_port: int | None, aws_port: int, state_dir: Path, origins: str | None, faults: FaultProfile
) -> int:
    try:
        launched = launch(port, websocket_port, aws_port)
    except PortBusy as busy:
        raise SystemExit(f"make local: {busy}") from None
    from tools.local.cors import LOCAL_ORIGINS, parse_origins
    from tools.local.server import LocalStack  # imported while moto's server and the zygote start

    admitted = parse_origins(origins) if origins else LOCAL_ORIGINS
    stack = LocalStack(
        launched=launched,
        state_dir=state_dir,
        origins=admitted,
        faults=faults,
        log=lambda line: print(line, flush=True),
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


def running(command: str, state_dir: Path = STATE_DIR) -> dict[str, Any]:
    """The running stack's state (`.local/stack.json`), or one line saying to start it."""
    import json
    import socket
    from urllib.parse import urlsplit

    path = state_dir / "stack.json"
    hint = f"make {command}: the local stack is not running: start it with `make local` in another terminal"
    if not path.exists():
        raise SystemExit(hint)
    local: dict[str, Any] = json.loads(path.read_text())
    aws = urlsplit(local["aws"])
    try:
        socket.create_connection((aws.hostname, aws.port), timeout=2).close()
    except OSError:
        raise SystemExit(f"{hint} (nothing answers at {local['aws']})") from None
    return local


def token(group: str, *, access: bool = False) -> int:
    print(issue_token(running("token"), group, access=access))
    return 0


def issue_token(local: dict[str, Any], group: str, *, access: bool = False) -> str:
    import boto3

    from tools.token import client_credentials

    if group == "machine":
        client = local["batchJobClient"]
        return client_credentials(local["tokenEndpoint"], client["clientId"], client["clientSecret"])
    user = local["users"][group]
    cognito = boto3.client("cognito-idp", endpoint_url=local["aws"], region_name=local["region"])
    result = cognito.initiate_auth(
        ClientId=local["userPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
    )
    # An admin's access token carries `dropshop/pipeline.write`: moto's server ran the pool's trigger.
    issued: str = result["AuthenticationResult"]["AccessToken" if access else "IdToken"]
    return issued


def start_api(port: int, warm: str, sam_args: list[str]) -> int:
    """`sam local start-api` beside `make local`, its functions' AWS calls going to the running stack."""
    import shutil
    import subprocess

    from tools.local.sam_bridge import wired

    running("start-api")
    sam = shutil.which("sam")
    if sam is None:
        raise SystemExit("make start-api: SAM CLI is not installed: `make setup` installs it into .venv")
    with wired(STATE_DIR / "env.json", STATE_DIR / "sam-env.json") as bridge:
        command = [sam, "local", "start-api", "--port", str(port), "--warm-containers", warm, *bridge["args"]]
        server = subprocess.Popen(  # noqa: S603
            [*command, *sam_args],
            env={**os.environ, **bridge["environment"]},
            # Ctrl-C reaches SAM even when this runs in the background (where a shell ignores SIGINT).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        # SIGTERM as Ctrl-C: SAM stops its containers, then the relay closes.
        signal.signal(signal.SIGTERM, lambda *_: server.send_signal(signal.SIGINT))
        while True:
            try:
                return server.wait()
            except KeyboardInterrupt:  # SAM, in the same process group, got the Ctrl-C too: wait for it
                continue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "token", "start-api", "upload", "download"]
    )
    parser.add_argument("target", nargs="*", help="upload: FILE; download: invoice|credit-note ORDER")
    parser.add_argument("--port", type=int, default=None, help="default: 3000, or 3002 for start-api")
    parser.add_argument("--websocket-port", type=int, default=None, help="default: the port after --port")
    parser.add_argument("--aws-port", type=int, default=5000, help="moto's server, the stack's AWS endpoint")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help="stack.json, env.json, function logs")
    parser.add_argument("--as", dest="group", default="customer", choices=["customer", "admin", "machine"])
    parser.add_argument("--access", action="store_true", help="token: the user's access token, not the ID token")
    parser.add_argument("--origins", help="browser origins the APIs admit, comma-separated, `*` for any port")
    parser.add_argument("--warm-containers", default="LAZY", choices=["LAZY", "EAGER"], help="start-api: SAM's")
    parser.add_argument("--faults", default="off", help="aws, aws:-conflicts,-crashes, a list of faults, or off")
    parser.add_argument("--faults-seed", type=int, default=0, help="the faults' dice")
    parser.add_argument(
        "--faults-time-scale", type=float, default=1.0, help="AWS's delays divided by this (60: a minute is a second)"
    )
    args, sam_args = parser.parse_known_args(argv)
    if args.command == "start-api":
        return start_api(args.port or 3002, args.warm_containers, [a for a in [*args.target, *sam_args] if a != "--"])
    if args.command in ("upload", "download"):
        from tools.local import walkthrough

        local = running(args.command)
        if args.command == "upload" and len(args.target) == 1:
            print(walkthrough.upload(local, Path(args.target[0])))
            return 0
        if args.command == "download" and len(args.target) == 2 and args.target[0] in ("invoice", "credit-note"):
            document, order = args.target
            print(walkthrough.download(local, issue_token(local, args.group), order, document))
            return 0
        parser.error("upload FILE | download invoice|credit-note ORDER")
    if sam_args:
        parser.error(f"unrecognized arguments: {' '.join(sam_args)}")
    if args.command == "token":
        return token(args.group, access=args.access)
    try:
        faults = FaultProfile.from_spec(args.faults, seed=args.faults_seed, time_scale=args.faults_time_scale)
    except UnknownFault as unknown:
        parser.error(str(unknown))
    return serve(args.port or 3000, args.websocket_port, args.aws_port, args.state_dir, args.origins, faults)


if __name__ == "__main__":
    sys.exit(main())
