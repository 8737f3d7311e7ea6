"""`finagency serve --demo` as a user runs it: posts reach the sandbox, none stuck, stats agree."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ADMIN, Server, login, running_server

pytestmark = pytest.mark.e2e


def wait_for_published(client: httpx.Client, minimum: int, seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    stats: dict[str, object] = {}
    while time.monotonic() < deadline:
        stats = client.get("/api/v1/stats").json()
        if int(stats["posted"]) >= minimum:  # type: ignore[call-overload]
            return stats
        time.sleep(1)
    pytest.fail(f"fewer than {minimum} posts published in {seconds} s; last stats: {stats}")


def test_demo_publishes_to_the_sandbox_with_nothing_stuck(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        login(client, *ADMIN)
        stats = wait_for_published(client, minimum=3, seconds=90)
        assert stats["stuck"] == 0
        assert 0 <= float(stats["backlog_pct"]) <= 100  # type: ignore[arg-type]

        published = client.get("/api/v1/posts", params={"status": "published", "limit": 100}).json()
        items = published["items"]
        assert items
        assert all(item["external_url"] for item in items)
        assert {item["platform"] for item in items} <= {
            "sandbox:x",
            "sandbox:linkedin",
            "sandbox:telegram",
        }

        # Whatever is still waiting is waiting for a future slot, not overdue.
        scheduled = client.get("/api/v1/posts", params={"status": "scheduled", "limit": 200}).json()
        now = datetime.now(UTC)
        for item in scheduled["items"]:
            assert datetime.fromisoformat(item["scheduled_at"]) > now - timedelta(seconds=30)

    # The CLI reads the same numbers straight from the database.
    result = server.cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for key in ("total", "pending", "posted", "backlog_pct", "stuck", "processing_rate_pct"):
        assert key in figures
    assert figures["posted"] >= 3
    assert figures["stuck"] == 0

    verify = server.cli("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "intact" in verify.stderr


def test_health_readiness_metrics_and_openapi(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["workers"]["alive"] >= 1
        metrics = client.get("/metrics").text
        assert "finagency_jobs{" in metrics
        assert client.get("/api/openapi.json").json()["info"]["title"] == "finagency"
        assert client.get("/api/docs").status_code == 200
        # The dashboard wants a session; the API says so in its one error shape.
        anonymous = httpx.get(f"{server.base_url}/api/v1/stats", timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_sigterm_shuts_down_gracefully(tmp_path: Path) -> None:
    """Stop a server the way a process manager would, and expect a clean, complete shutdown."""
    with running_server(tmp_path) as server:
        _stop_and_check(server)


def _stop_and_check(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("serve did not stop within 30 s of SIGTERM")
    # Uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean exit.
    assert code in (0, -signal.SIGTERM), server.log()[-3000:]
    log = server.log()
    assert "worker.stopped" in log
    assert "Application shutdown complete" in log
