"""Container health probes, light enough to run every few seconds.

``python -m finagency.ops.probe web|worker|scheduler`` exits 0 when healthy, 1 when not. It
imports only settings, the database layer and the models (not the web app or the task
registry), because Docker starts it afresh on every check.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import urllib.request
from datetime import timedelta

from sqlalchemy import func, select, text

from finagency.config import Settings
from finagency.core.db import create_engine, create_read_sessionmaker
from finagency.core.time import utcnow
from finagency.models import LeaderLease, WorkerHeartbeat
from finagency.queue.scheduler import LEADER

ROLES = ("web", "worker", "scheduler")


def web_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - a local URL
            return bool(response.status == 200)
    except OSError:
        return False


async def process_healthy(settings: Settings, role: str) -> bool:
    """worker: a fresh heartbeat from this host (its container); scheduler: the database
    answers and some scheduler holds the lead (a standby is healthy while another leads)."""
    engine = create_engine(settings.db_url)
    try:
        async with create_read_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
            now = utcnow()
            if role == "worker":
                stale = now - timedelta(seconds=settings.worker.heartbeat_stale_seconds)
                query = select(func.count()).where(
                    WorkerHeartbeat.hostname == socket.gethostname(),
                    WorkerHeartbeat.last_seen_at >= stale,
                )
            else:
                query = select(func.count()).where(
                    LeaderLease.name == LEADER, LeaderLease.expires_at >= now
                )
            return bool(await session.scalar(query))
    except Exception:  # any failure to look counts as unhealthy; the exit status says so
        return False
    finally:
        await engine.dispose()


def healthy(role: str, settings: Settings, url: str | None = None) -> bool:
    if role == "web":
        return web_healthy(url or f"http://127.0.0.1:{settings.port}/healthz")
    if role in ("worker", "scheduler"):
        return asyncio.run(process_healthy(settings, role))
    raise ValueError(f"role is one of {', '.join(ROLES)}, not {role!r}")


def main(argv: list[str]) -> int:
    role = argv[0] if argv else "web"
    if role not in ROLES:
        sys.stderr.write(f"usage: python -m finagency.ops.probe [{'|'.join(ROLES)}]\n")
        return 2
    return 0 if healthy(role, Settings()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
