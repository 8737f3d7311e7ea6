"""Web load: a bounded load test against a running finagency web app.

By default it starts its own ``finagency web`` (one process, demo data, signed-in admin) on a
scratch database; ``--url`` points it at an app already running instead (a compose deployment,
say: ``--url http://127.0.0.1:8000 --email … --password …``). ``--concurrency`` virtual users
each send the next request as soon as the previous one answered, for ``--seconds``, cycling over
the dashboard's pages and API reads. Reports requests/s, p50/p99 latency and errors per path.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from benchmarks._common import (
    REPO_ROOT,
    base_parser,
    child_env,
    emit,
    free_port,
    machine,
    note,
    percentile,
    print_table,
    scratch,
    spawn,
    stop,
    venv_script,
    wait_for_port,
)

PATHS = ("/", "/queue", "/api/v1/stats", "/api/v1/jobs", "/healthz", "/metrics")
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-admin-password-1"


def _cache_reads(client: httpx.Client) -> dict[str, float]:
    """Cache reads so far by result ("hit", "miss"), summed over policies, from /metrics."""
    totals = {"hit": 0.0, "miss": 0.0}
    for line in client.get("/metrics").text.splitlines():
        if not line.startswith("finagency_cache_requests_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        for result in totals:
            if f'result="{result}"' in labels:
                totals[result] += float(value)
    return totals


def _sign_in(client: httpx.Client, email: str, password: str) -> bool:
    form = client.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if match is None:
        return False
    response = client.post(
        "/login", data={"csrf_token": match.group(1), "email": email, "password": password}
    )
    return response.status_code == 303


@contextmanager
def _own_app(backend: str, postgres_url: str) -> Iterator[str]:
    """A migrated scratch database with demo data and an admin, served by `finagency web`."""
    with scratch(backend, postgres_url, "load") as db:
        env = {
            "FINAGENCY_DATABASE_URL": db.url,
            "FINAGENCY_DATA_DIR": str(db.workdir),
            "FINAGENCY_SECRET_KEY": "benchmark-only-secret-key-0123456789abcdef",
            "FINAGENCY_LOG_LEVEL": "WARNING",
        }
        finagency = venv_script("finagency")
        for command in (
            ["demo"],
            ["user", "create", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--admin"],
        ):
            subprocess.run(
                [finagency, *command],
                env=child_env(env),
                cwd=REPO_ROOT,
                check=True,
                capture_output=True,
            )
        port = free_port()
        web = spawn([finagency, "web", "--port", str(port)], db.workdir / "web.log", env)
        try:
            wait_for_port(port, timeout=90)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(web)


async def _user(
    client: httpx.AsyncClient,
    offset: int,
    deadline: float,
    latencies: dict[str, list[float]],
    errors: dict[str, int],
) -> None:
    index = offset
    while time.perf_counter() < deadline:
        path = PATHS[index % len(PATHS)]
        index += 1
        started = time.perf_counter()
        try:
            response = await client.get(path)
            failed = response.status_code >= 400
        except httpx.HTTPError:
            failed = True
        latencies[path].append(time.perf_counter() - started)
        if failed:
            errors[path] += 1


async def _load(
    base: str, cookies: httpx.Cookies, concurrency: int, seconds: float
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=30, limits=limits
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_user(client, user, deadline, latencies, errors) for user in range(concurrency))
        )
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--url", help="an app already running (default: start one)")
    parser.add_argument("--email", default=ADMIN_EMAIL)
    parser.add_argument("--password", default=ADMIN_PASSWORD)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="load duration (bounded)")
    args = parser.parse_args()
    seconds = min(args.seconds, 50.0)  # a benchmark run stays under a minute

    with (
        _own_app(args.backend, args.postgres_url) if args.url is None else _given(args.url)
    ) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            signed_in = _sign_in(client, args.email, args.password)
            if not signed_in:
                note("could not sign in: pages that need a session will count as errors")
            cookies = client.cookies
            before = _cache_reads(client)
        latencies, errors, elapsed = asyncio.run(_load(base, cookies, args.concurrency, seconds))
        with httpx.Client(base_url=base, timeout=30) as client:
            after = _cache_reads(client)
    hits = after["hit"] - before["hit"]
    reads = hits + after["miss"] - before["miss"]
    hit_rate = round(hits / reads, 4) if reads else None

    note(f"cache hit rate during the load: {hit_rate if hit_rate is not None else 'n/a'}")
    everything = [value for values in latencies.values() for value in values]
    total = len(everything)
    rows: list[list[Any]] = []
    for path in PATHS:
        values = latencies.get(path, [])
        rows.append(
            [
                path,
                len(values),
                f"{percentile(values, 50) * 1000:.1f} ms" if values else "-",
                f"{percentile(values, 99) * 1000:.1f} ms" if values else "-",
                errors.get(path, 0),
            ]
        )
    print_table(
        f"web load: {args.concurrency} users for {elapsed:.1f} s against "
        f"{'a running app' if args.url else 'one `finagency web`, backend ' + args.backend}",
        ["path", "requests", "p50", "p99", "errors"],
        rows,
    )
    emit(
        {
            "bench": "web_load",
            "backend": None if args.url else args.backend,
            "concurrency": args.concurrency,
            "duration_s": round(elapsed, 2),
            "requests": total,
            "requests_per_s": round(total / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(percentile(everything, 50) * 1000, 2) if everything else None,
            "p99_ms": round(percentile(everything, 99) * 1000, 2) if everything else None,
            "errors": sum(errors.values()),
            "cache_hit_rate": hit_rate,
            "signed_in": signed_in,
            "machine": machine(),
        }
    )


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url.rstrip("/")


if __name__ == "__main__":
    main()
