"""A real browser (Debian's Chromium, driven by Playwright) against `make local`'s stack, started once on free
ports with the frontend's origin on a free port too. Skipped, with the reason, where Chromium is absent
(.ci/run installs it). A failing test leaves a screenshot of each page it opened in its output directory."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Client, sign_in
from tools.local.server import LocalStack

# Debian's path (this machine's); elsewhere whichever Chromium is on PATH (Ubuntu's is `chromium-browser`).
CHROMIUM = next(
    (
        c
        for c in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
        if c and Path(c).exists()
    ),
    "/usr/bin/chromium",
)
# Flags that work in this sandbox: no GPU, no network the test did not ask for (no QUIC, updates, sync).
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = Path(__file__).parent / "pages"
CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium chromium-driver` (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: run `make setup`")
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # A fresh profile each session: nothing cached or remembered from another run.
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
    )
    yield context
    context.close()


@pytest.fixture(scope="session")
def frontend_origin() -> str:
    """Where the shop's frontend runs, as the template's FrontendOrigin names it (localhost:5173 by default)."""
    return f"http://localhost:{free_port()}"


@pytest.fixture(scope="session")
def gateway_log() -> list[str]:
    return []


@pytest.fixture(scope="session")
def local(
    tmp_path_factory: pytest.TempPathFactory, frontend_origin: str, gateway_log: list[str]
) -> Iterator[LocalStack]:
    stack = LocalStack(
        port=0,
        websocket_port=0,
        log=gateway_log.append,
        state_dir=tmp_path_factory.mktemp("local-stack"),
        parameters={"FrontendOrigin": frontend_origin},
        origins=(frontend_origin,),  # as `ORIGINS=` narrows it: the local default admits every loopback port
    ).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def api(local: LocalStack) -> Client:
    return Client(local.url)


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def customer_token(local: LocalStack) -> str:
    return sign_in(local, "customer")


@pytest.fixture  # signed in per test: the local tokens live 15 minutes, as the template says
def admin_token(local: LocalStack) -> str:
    return sign_in(local, "admin")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a frontend's dev server serves: the test pages, and the typed client (clients/typescript) compiled
    by tsc into client/, openapi-fetch beside it (the pages' import map points the bare name at it)."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(PAGES, root, dirs_exist_ok=True)
    if not (CLIENT / "node_modules" / ".package-lock.json").exists():
        npm = [shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"]
        subprocess.run(npm, cwd=CLIENT, check=True, capture_output=True, timeout=300)  # noqa: S603
    tsc = [shutil.which("npx") or "npx", "tsc", "--outDir", str(root / "client")]
    subprocess.run(tsc, cwd=CLIENT, check=True, capture_output=True, timeout=300)  # noqa: S603
    shutil.copy(CLIENT / "node_modules" / "openapi-fetch" / "dist" / "index.js", root / "client" / "openapi-fetch.js")
    return root


def serve_pages(host: str, port: int, site: Path) -> http.server.ThreadingHTTPServer:
    """The site on host:port, as a frontend's dev server would serve it."""
    handler = functools.partial(QuietPages, directory=str(site))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name=f"pages:{port}", daemon=True).start()
    return server


class QuietPages(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def frontend(frontend_origin: str, site: Path) -> Iterator[str]:
    """The test pages on the frontend's origin."""
    server = serve_pages("127.0.0.1", int(frontend_origin.rsplit(":", 1)[1]), site)
    yield frontend_origin
    server.shutdown()


@pytest.fixture(scope="session")
def foreign(site: Path) -> Iterator[str]:
    """The same pages on an origin the API does not allow."""
    port = free_port()
    server = serve_pages("127.0.0.1", port, site)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def open_page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """Open a URL in a new tab; on failure every tab the test opened is saved as a PNG under its tmp_path."""
    pages: list[Any] = []

    def open_(url: str) -> Any:
        page = browser.new_page()
        pages.append(page)
        page.goto(url)
        return page

    yield open_
    if request.node.stash.get(FAILED, False):
        for number, page in enumerate(pages, 1):
            shot = tmp_path / f"page-{number}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of {page.url}: {shot}")
    for page in pages:
        page.close()
