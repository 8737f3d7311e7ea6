"""Two web processes, two workers and a scheduler on PostgreSQL and Redis, as deployed.

Under a load of publishes to the Mastodon fake, one worker is killed with SIGKILL and one web
process is restarted. Every post must reach the platform exactly once, nothing may be left
stuck, and a change made through web A must reach an Overview stream open on web B.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.integrations.platforms.fakes import server as fakes
from finagency.models import ContentItem, Post, PostStatus
from finagency.ops.migrations import upgrade_database
from finagency.publishing import accounts
from finagency.publishing import service as publishing
from finagency.runtime import open_services
from tests.e2e.conftest import free_port

POSTGRES_URL = os.environ.get("FINAGENCY_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FINAGENCY_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL),
        reason="needs FINAGENCY_TEST_POSTGRES_URL and FINAGENCY_TEST_REDIS_URL",
    ),
]

ADMIN = ("mp-admin@example.com", "multi-process-admin-pass")
SECRET = "multi-process-test-secret-key-0123456789"
ACCOUNTS = 6  # the load spread over accounts, so the platform's rate limit does not pace it
POSTS_PER_ACCOUNT = 10
# Generous: a process imports the whole product before it answers (seconds on a loaded box).
STARTUP = 240.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Fleet:
    """The processes of the test, each restartable, none outliving it."""

    workdir: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "finagency.cli.main", *args],
            env={**self.env, **extra},
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)}" for name in self.procs)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_workers(fleet: Fleet, url: str, count: int, within: float = STARTUP) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready = httpx.get(f"{url}/readyz", timeout=5).json()
        if ready["checks"].get("workers", {}).get("alive", 0) >= count:
            return
        time.sleep(0.3)
    pytest.fail(f"{count} workers did not start:\n{fleet.logs()}")


def wait_healthy(
    fleet: Fleet, name: str, url: str, within: float = STARTUP, path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if fleet.procs[name].poll() is not None:
            pytest.fail(f"{name} exited early:\n{fleet.log(name)}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{name} did not become healthy:\n{fleet.log(name)}")


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database, migrated, dropped afterwards."""
    assert POSTGRES_URL
    name = f"finagency_mp_{uuid.uuid4().hex[:10]}"
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(upgrade_database(url))
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(settings: Settings, fakes_url: str) -> tuple[list[int], int]:
    """An admin, ACCOUNTS Mastodon accounts on the fake, a scheduled load spread over a few
    seconds, and one post waiting in review; returns the load's post ids and the review's."""
    async with open_services(settings) as services, transaction(services.sessionmaker) as session:
        brand = await brands.create_brand(session, slug="mp", name="Multi Process")
        brand.settings = {**brand.settings, "spacing_seconds": 0, "lead_seconds": 0}
        await auth.create_user(session, ADMIN[0], ADMIN[1], name="Admin", is_admin=True)
        ids: list[int] = []
        start = utcnow()

        async def post(account_id: int, text: str, status: PostStatus) -> Post:
            item = ContentItem(brand_id=brand.id, kind="editorial", title=text[:40])
            session.add(item)
            await session.flush()
            row = Post(
                brand_id=brand.id,
                content_item_id=item.id,
                account_id=account_id,
                platform="mastodon",
                text=text,
                status=status.value,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                check_verdict="pass",
            )
            session.add(row)
            await session.flush()
            return row

        for number in range(ACCOUNTS):
            account = await accounts.connect_account(
                session,
                services.secret_box,
                brand,
                platform="mastodon",
                handle=f"desk{number}",
                credentials=dict(fakes.TEST_CREDENTIALS["mastodon"]),
                base_url=f"{fakes_url}/mastodon",
            )
            for index in range(POSTS_PER_ACCOUNT):
                text = f"Load post {number}-{index}: the 10-year yield closed at 4.{index}%."
                row = await post(account.id, text, PostStatus.APPROVED)
                at = start + timedelta(milliseconds=100 * (index * ACCOUNTS + number))
                await publishing.schedule_post(session, row, at=at, actor="test")
                ids.append(row.id)
        review = await post(account.id, "Review post: CPI rose 0.3% in May.", PostStatus.IN_REVIEW)
        return ids, review.id


class StatsStream:
    """An Overview stream read in a thread; collects the causes of pushed stats."""

    def __init__(self, client: httpx.Client) -> None:
        self.causes: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[str] = []  # every event name, for the failure message
        self.opened = threading.Event()
        self._client = client
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = ""
        try:
            with self._client.stream("GET", "/events/stats", timeout=None) as response:
                self.seen.append(f"HTTP {response.status_code}")
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                        self.seen.append(event)
                    elif line.startswith("data:") and event == "stats":
                        # The first stats come after the stream has subscribed to the bus.
                        self.opened.set()
                        data = json.loads(line.split(":", 1)[1])
                        if data.get("cause"):
                            self.seen.extend(data["cause"]["names"])
                            self.causes.put(data["cause"])
        except httpx.HTTPError:
            return  # the test closed the client: the stream is over

    def wait_for(self, name: str, within: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                cause = self.causes.get(timeout=left)
            except queue.Empty:
                return None
            if name in cause["names"]:
                return cause
        return None


def sign_in(client: httpx.Client) -> str:
    form = client.get("/login")
    token = CSRF.search(form.text)
    assert token, form.text[:300]
    answer = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": ADMIN[0], "password": ADMIN[1], "next": "/"},
    )
    assert answer.status_code in (200, 303), answer.text[:300]
    page = client.get("/", headers={"accept": "text/html"})
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def publish_counts(database_url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Posts by status and publish jobs by state, read straight from the database."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo) as conn:
        posts = conn.execute("SELECT status, count(*) FROM post GROUP BY status").fetchall()
        jobs = conn.execute(
            "SELECT state, count(*) FROM job WHERE task = %s GROUP BY state",
            (publishing.PUBLISH_TASK,),
        ).fetchall()
    return {str(k): int(v) for k, v in posts}, {str(k): int(v) for k, v in jobs}


def test_two_webs_two_workers_lose_nothing_and_share_events(database: str, tmp_path: Path) -> None:
    assert REDIS_URL
    fakes_port, port_a, port_b = free_port(), free_port(), free_port()
    fakes_url = f"http://127.0.0.1:{fakes_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINAGENCY_")},
        "FINAGENCY_DATABASE_URL": database,
        "FINAGENCY_REDIS_URL": REDIS_URL,
        "FINAGENCY_SECRET_KEY": SECRET,
        "FINAGENCY_HTTP__ALLOW_PRIVATE": '["127.0.0.1"]',
        "FINAGENCY_EVENTS__CHANNEL": f"mp_{uuid.uuid4().hex[:10]}",
        "FINAGENCY_CACHE__REDIS_PREFIX": f"mp:{uuid.uuid4().hex[:10]}",
        # A killed worker's jobs come back after a short lease.
        "FINAGENCY_WORKER__LEASE_SECONDS": "4",
        "FINAGENCY_WORKER__RESCUE_INTERVAL": "1",
        "FINAGENCY_WORKER__QUEUES": '["publish"]',
        "FINAGENCY_LOG_JSON": "true",
        "PYTHONUNBUFFERED": "1",
    }
    settings = Settings(database_url=database, secret_key=SECRET, redis_url=REDIS_URL)
    fleet = Fleet(tmp_path, env)
    web_a, web_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    try:
        fleet.start("fakes", "fake-platforms", "--port", str(fakes_port))
        fleet.start("web-a", "web", "--port", str(port_a))
        fleet.start("web-b", "web", "--port", str(port_b))
        fleet.start("scheduler", "scheduler")
        fleet.start("worker-1", "worker")
        fleet.start("worker-2", "worker")
        wait_healthy(fleet, "web-a", web_a)
        wait_healthy(fleet, "web-b", web_b)
        wait_healthy(fleet, "fakes", fakes_url, path="/")
        wait_for_workers(fleet, web_b, 2)
        load, review_id = asyncio.run(seed(settings, fakes_url))

        # Mid-load: kill one worker outright, restart one web process.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if publish_counts(database)[0].get("published", 0) >= len(load) // 4:
                break
            time.sleep(0.3)
        fleet.procs["worker-1"].send_signal(signal.SIGKILL)
        fleet.procs["web-a"].send_signal(signal.SIGTERM)
        fleet.procs["web-a"].wait(timeout=30)
        fleet.start("web-a", "web", "--port", str(port_a))
        wait_healthy(fleet, "web-a", web_a)

        # A change made through web A reaches a browser's stream on web B.
        with (
            httpx.Client(base_url=web_b, timeout=10) as browser_b,
            httpx.Client(base_url=web_a, timeout=10) as browser_a,
        ):
            sign_in(browser_b)
            stream = StatsStream(browser_b)
            assert stream.opened.wait(10), fleet.log("web-b")
            token = sign_in(browser_a)
            approved = browser_a.post(
                f"/api/v1/posts/{review_id}/approve",
                json={"note": "multi-process"},
                headers={"X-CSRF-Token": token},
            )
            assert approved.status_code == 200, approved.text
            cause = stream.wait_for("approval.given", within=5)
            assert cause is not None, (stream.seen, fleet.logs())

        # Everything goes out, the review post too, and nothing is left behind.
        expected = len(load) + 1
        deadline = time.monotonic() + 60
        posts, jobs = publish_counts(database)
        while time.monotonic() < deadline and posts.get("published", 0) < expected:
            time.sleep(0.5)
            posts, jobs = publish_counts(database)
        received = httpx.get(f"{fakes_url}/mastodon/__fake__/posts", timeout=10).json()
    finally:
        fleet.stop_all()

    texts = [status["content"] for status in received]
    assert posts == {"published": expected}, (posts, jobs, fleet.logs())
    assert jobs == {"completed": expected}, jobs  # none running, waiting or dead-lettered
    assert len(texts) == expected  # each post reached the platform once
    assert len(set(texts)) == expected  # and none twice
