"""B10: a job's state change → the event in a browser's SSE stream (target p95 ≤ 500 ms).

A `finagency web` process serves the dashboard; an operator retries a dead-lettered job through
the API (one state change, announced on the event bus after the commit) while an SSE client
reads `/events/stats` exactly as the Overview's EventSource does. Latency is from sending the
request to reading the stream's `event: change` for that job (the request's own time included).

With `--backend postgres` two web processes run: the change goes through one and the stream is
read from the other, so the event crosses processes over PostgreSQL LISTEN/NOTIFY, as a
worker's or another web process's changes reach a browser in production. On SQLite one
process serves both (its in-process bus). Actions are spaced wider than the stream's 250 ms
coalescing window, so each change is its own event.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import httpx

from benchmarks._common import (
    base_parser,
    child_env,
    emit,
    free_port,
    machine,
    note,
    percentile,
    print_table,
    python_module,
    scratch,
    spawn,
    stop,
    wait_for_port,
)

EMAIL = "bench-admin@example.com"
PASSWORD = "bench-admin-password-123"  # noqa: S105 (a scratch database's throwaway user)
TARGET_P95_MS = 500.0


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        python_module("finagency.cli.main", *args),
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"finagency {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")


async def _dead_letters(url: str, count: int) -> list[int]:
    from finagency.core.db import create_engine, create_sessionmaker, transaction
    from finagency.core.time import utcnow
    from finagency.models import Job, JobState

    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            jobs = [
                Job(
                    queue="bench-paused",
                    task="bench.nothing",
                    args={},
                    state=JobState.DISCARDED.value,
                    attempt=1,
                    finalized_at=utcnow(),
                    dlq_reason="bench",
                )
                for _ in range(count)
            ]
            session.add_all(jobs)
            await session.flush()
            return [job.id for job in jobs]
    finally:
        await engine.dispose()


def _signed_in(base_url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in page"
    answer = client.post(
        "/login", data={"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}
    )
    if answer.status_code not in (200, 303):
        raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    page = client.get("/review").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, "no CSRF token after signing in"
    return client, csrf.group(1)


class StreamReader(threading.Thread):
    """Reads the SSE stream and notes when each job-state event arrived.

    The stream names the bus event that woke it: in the ``cause`` of the stats it sends then
    (or in a separate ``event: change``); either is the moment the browser learns of it.
    """

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.arrivals: list[float] = []
        self.ready = threading.Event()
        self.stop_reading = threading.Event()

    def run(self) -> None:
        event = ""
        with self.client.stream("GET", "/events/stats", timeout=None) as response:
            for line in response.iter_lines():
                now = time.perf_counter()
                if self.stop_reading.is_set():
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    body = json.loads(line[5:])
                    if event == "stats":
                        self.ready.set()
                        body = body.get("cause") or {}
                    if body.get("name") == "job.state_changed":
                        self.arrivals.append(now)
                elif not line:
                    event = ""


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--spacing", type=float, default=0.6, help="seconds between changes")
    parser.add_argument(
        "--processes",
        type=int,
        choices=(1, 2),
        default=None,
        help="web processes (default: 2 on PostgreSQL, 1 on SQLite)",
    )
    args = parser.parse_args()

    with scratch(args.backend, args.postgres_url, "live") as db:
        env = {
            "FINAGENCY_DATABASE_URL": db.url,
            "FINAGENCY_SECRET_KEY": "bench-secret-key-not-for-production-0123",
            "FINAGENCY_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        _cli(env, "db", "upgrade")
        _cli(env, "user", "create", "--email", EMAIL, "--password", PASSWORD, "--admin")
        ids = asyncio.run(_dead_letters(db.url, args.changes))
        processes = args.processes or (2 if db.is_postgres else 1)
        ports = [free_port() for _ in range(processes)]
        procs = [
            spawn(
                python_module(
                    "finagency.cli.main", "web", "--host", "127.0.0.1", "--port", str(port)
                ),
                db.workdir / f"web-{port}.log",
                env,
            )
            for port in ports
        ]
        try:
            for port in ports:
                wait_for_port(port, timeout=60)
            result = _measure(ports, ids, args.spacing)
        finally:
            for proc in procs:
                stop(proc)
            for log in Path(db.workdir).glob("web-*.log"):
                tail = log.read_text(errors="replace")[-1500:]
                if "Traceback" in tail or os.environ.get("BENCH_SHOW_LOGS"):
                    note(f"{log.name}:\n{tail}")

    latencies, missed = result
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    topology = "two web processes (over the bus)" if len(ports) == 2 else "one web process"
    print_table(
        f"B10 live updates: job state change → SSE event ({args.backend}, {topology})",
        ["changes", "received", "p50 ms", "p95 ms", "max ms", "target p95 ms"],
        [
            [
                len(ids),
                len(latencies),
                p50,
                p95,
                max(latencies, default=float("nan")),
                TARGET_P95_MS,
            ]
        ],
    )
    emit(
        {
            "bench": "B10",
            "backend": args.backend,
            "processes": len(ports),
            "changes": len(ids),
            "received": len(latencies),
            "missed": missed,
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(latencies, default=float("nan")), 1),
            "target_p95_ms": TARGET_P95_MS,
            "meets_target": bool(latencies) and not missed and p95 <= TARGET_P95_MS,
            "machine": machine(),
        }
    )


def _measure(ports: list[int], ids: list[int], spacing: float) -> tuple[list[float], int]:
    actor, csrf = _signed_in(f"http://127.0.0.1:{ports[0]}")
    watcher, _ = _signed_in(f"http://127.0.0.1:{ports[-1]}")
    reader = StreamReader(watcher)
    reader.start()
    if not reader.ready.wait(30):
        raise SystemExit("the SSE stream sent no first stats event within 30 s")
    time.sleep(0.5)
    sent: list[float] = []
    for job_id in ids:
        sent.append(time.perf_counter())
        answer = actor.post(f"/api/v1/jobs/{job_id}/retry", headers={"X-CSRF-Token": csrf})
        if answer.status_code != 200:
            raise SystemExit(f"retry failed: {answer.status_code} {answer.text[:300]}")
        time.sleep(spacing)
    time.sleep(2.0)
    reader.stop_reading.set()
    # Each change is the first arrival after it was sent and before the next one was.
    latencies = []
    for index, started in enumerate(sent):
        until = sent[index + 1] if index + 1 < len(sent) else float("inf")
        arrived = next((at for at in reader.arrivals if started <= at < until), None)
        if arrived is not None:
            latencies.append((arrived - started) * 1000)
    actor.close()
    return latencies, len(ids) - len(latencies)


if __name__ == "__main__":
    main()
