"""A real `finagency serve --demo` process on a free port, shared by the end-to-end tests."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ADMIN = ("admin@demo.finagency.dev", "demo-admin-pass")
APPROVER = ("approver@demo.finagency.dev", "demo-approver-pass")
EDITOR = ("editor@demo.finagency.dev", "demo-editor-pass")

# Debian's chromium, driven by Playwright; no browser is ever downloaded.
CHROMIUM = (
    os.environ.get("FINAGENCY_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
# Keep chromium off the network: this machine has none, and the tests need none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless chromium per test module (skipped with a reason when it is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            "browser tests need Debian's chromium (apt-get install chromium) "
            "or FINAGENCY_TEST_CHROMIUM"
        )
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "finagency.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def login(client: httpx.Client, email: str, password: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the sign-in page carries a CSRF token"
    answer = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": email, "password": password, "next": "/"},
    )
    assert answer.status_code in (200, 303), answer.text[:500]
    assert client.get("/api/v1/stats").status_code == 200


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"serve did not answer /healthz within 90 s:\n{log_path.read_text()[-4000:]}")


@contextmanager
def running_server(workdir: Path, **extra_env: str) -> Iterator[Server]:
    """Start `finagency serve --demo` on a free port with its own SQLite file; stop it after."""
    port = free_port()
    env = {
        **os.environ,
        "FINAGENCY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'finagency.db'}",
        "FINAGENCY_PORT": str(port),
        "FINAGENCY_HOST": "127.0.0.1",
        "FINAGENCY_SECRET_KEY": "e2e-secret-key-not-for-production",
        "FINAGENCY_LOG_LEVEL": "INFO",
        **extra_env,
    }
    log_path = workdir / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "finagency.cli.main", "serve", "--demo"],
            env=env,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process, log_path)
        yield Server(base_url, env, process, log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One demo server shared by the end-to-end tests that only observe or add work."""
    with running_server(tmp_path_factory.mktemp("serve")) as started:
        yield started
