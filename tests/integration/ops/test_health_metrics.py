"""/readyz and /metrics as an operator and an autoscaler read them: the queue's depth and age,
the cache's hits and misses, and Redis trouble shown as degraded (still ready) then healed."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

from ops_support import opened_app
from prometheus_client.parser import text_string_to_metric_families

from finagency.analytics.router import stats_data
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.queue import enqueue, queries


def closed_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_metrics_export_due_depth_and_age_per_queue(database_url: str) -> None:
    async with opened_app(database_url) as opened:
        async with transaction(opened.services.sessionmaker) as session:
            for number in range(3):
                await enqueue(
                    session,
                    "ops.noop",
                    {"n": number},
                    queue="publish",
                    run_at=utcnow() - timedelta(seconds=90),
                )
            await enqueue(
                session, "ops.noop", {}, queue="publish", run_at=utcnow() + timedelta(hours=1)
            )
            await enqueue(session, "ops.noop", {}, queue="ingest")
        text = (await opened.client.get("/metrics")).text

    depth = samples(text, "finagency_queue_depth")
    age = samples(text, "finagency_oldest_due_job_age_seconds")
    assert depth[(("queue", "publish"),)] == 3  # the job due in an hour is not backlog yet
    assert depth[(("queue", "ingest"),)] == 1
    assert age[(("queue", "publish"),)] >= 90


async def test_stats_reads_are_cached_and_counted(database_url: str) -> None:
    async with opened_app(database_url, cache={"warm_at_start": False}) as opened:
        text_before = (await opened.client.get("/metrics")).text
        for _ in range(5):
            # The stats the Overview shows, read through the cache as its pages do.
            async with opened.services.read_sessionmaker() as session:
                await stats_data(session, None, opened.services.cache)
        text_after = (await opened.client.get("/metrics")).text

    def count(text: str, result: str) -> float:
        return samples(text, "finagency_cache_requests_total").get(
            (("policy", "stats"), ("result", result)), 0.0
        )

    assert count(text_after, "miss") - count(text_before, "miss") == 1
    assert count(text_after, "hit") - count(text_before, "hit") == 4


async def test_redis_down_is_degraded_not_unready_and_reads_still_work(database_url: str) -> None:
    async with opened_app(database_url, redis_url=closed_redis_url()) as opened:
        async with transaction(opened.services.sessionmaker) as session:
            await queries.record_heartbeat(
                session,
                worker_id="w1",
                hostname="h",
                pid=1,
                queues=["publish"],
                concurrency=1,
                running=0,
                processed=0,
                now=utcnow(),
            )
        async with opened.services.read_sessionmaker() as session:
            stats = await stats_data(session, None, opened.services.cache)
        ready = await opened.client.get("/readyz")
        metrics = (await opened.client.get("/metrics")).text

    body = ready.json()
    assert "total" in stats  # a cache miss, answered from the database
    assert body["checks"]["database"]["ok"] is True
    assert body["degraded"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["cache"] == {**body["checks"]["cache"], "backend": "redis", "ok": False}
    assert body["checks"]["events"]["backend"] == "redis"
    assert ready.status_code == 200  # the database answers and a worker lives: still ready
    assert re.search(r'finagency_component_ok\{component="cache"\} 0\.0', metrics)
