"""B8: resident memory of a worker process and of the web app with 1,000,000 queued jobs.

The jobs are inserted with set-based SQL (the rows ``enqueue`` writes), all due now. The worker
(``benchmarks._ours``, the bench registry) then works through them while its RSS is sampled;
the web app (``finagency web``) is started on the same database and sampled while it answers
requests to its public pages.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks import _ours
from benchmarks._common import (
    REPO_ROOT,
    base_parser,
    child_env,
    emit,
    file_size,
    free_port,
    machine,
    print_table,
    scratch,
    spawn,
    stop,
    venv_script,
    wait_for_port,
)

WEB_PATHS = ("/healthz", "/", "/queue", "/api/v1/stats", "/api/v1/jobs")
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-admin-password-1"


def _tail(path: Path, lines: int = 30) -> str:
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


def _sign_in(client: httpx.Client) -> bool:
    """Sign in through the login form (CSRF token included); True when it worked."""
    form = client.get("/login").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if match is None:
        return False
    response = client.post(
        "/login",
        data={"csrf_token": match.group(1), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    return response.status_code == 303


async def _fill(url: str, jobs: int) -> float:
    engine, sessionmaker = _ours.open_db(url)
    try:
        return await _ours.bulk_insert_jobs(
            sessionmaker, jobs, run_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    finally:
        await engine.dispose()


def _sample(pid: int, seconds: float) -> tuple[float, float]:
    """(last RSS, peak RSS) in MB over ``seconds``."""
    deadline = time.monotonic() + seconds
    current = peak = 0.0
    while time.monotonic() < deadline:
        current, peak = _ours.rss_mb(pid)
        time.sleep(0.2)
    return current, peak


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="how long each process is sampled"
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--requests", type=int, default=20, help="requests per web path")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    with scratch(args.backend, args.postgres_url, "b8") as db:
        asyncio.run(_ours.prepare(db.url))
        fill_seconds = asyncio.run(_fill(db.url, args.jobs))
        print(
            f"inserted {args.jobs:,} jobs in {fill_seconds:.1f} s "
            f"({args.jobs / fill_seconds:,.0f} rows/s)"
        )

        count_file = db.workdir / "worker.count"
        options = _ours.WorkerOptions(concurrency=args.concurrency, batch_size=args.batch_size)
        worker = _ours.spawn_worker(db.url, db.workdir, options, count_file=count_file)
        try:
            time.sleep(1.0)
            worker_rss, worker_peak = _sample(worker.pid, args.seconds)
        finally:
            stop(worker)
        result["worker"] = {
            "rss_mb": worker_rss,
            "peak_mb": worker_peak,
            "jobs_run": file_size(count_file),
        }

        port = free_port()
        env = {
            "FINAGENCY_DATABASE_URL": db.url,
            "FINAGENCY_DATA_DIR": str(db.workdir),
            "FINAGENCY_SECRET_KEY": "benchmark-only-secret-key-0123456789abcdef",
            "FINAGENCY_LOG_LEVEL": "WARNING",
            "FINAGENCY_SCHEDULER__ENABLED": "false",
        }
        subprocess.run(
            [
                venv_script("finagency"),
                "user",
                "create",
                "--email",
                ADMIN_EMAIL,
                "--password",
                ADMIN_PASSWORD,
                "--admin",
            ],
            env=child_env(env),
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
        web = spawn(
            [venv_script("finagency"), "web", "--port", str(port)], db.workdir / "web.log", env
        )
        statuses: dict[str, int] = {}
        signed_in = False
        try:
            wait_for_port(port, timeout=60)
            idle_rss, _ = _ours.rss_mb(web.pid)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                signed_in = _sign_in(client)
                for path in WEB_PATHS:
                    for _ in range(args.requests):
                        try:
                            statuses[path] = client.get(path).status_code
                        except httpx.HTTPError as error:
                            statuses[path] = -1
                            print(f"GET {path} failed: {error!r}; web log tail:")
                            print(_tail(db.workdir / "web.log"))
                            break
            if web.poll() is not None:
                raise RuntimeError(f"the web process died:\n{_tail(db.workdir / 'web.log')}")
            web_rss, web_peak = _sample(web.pid, min(args.seconds, 5.0))
        finally:
            stop(web)
        result["web"] = {
            "idle_mb": idle_rss,
            "rss_mb": web_rss,
            "peak_mb": web_peak,
            "statuses": statuses,
            "signed_in": signed_in,
        }

    print_table(
        f"B8 memory with {args.jobs:,} queued jobs, backend {args.backend}",
        ["process", "RSS now", "peak RSS", "target", "notes"],
        [
            [
                "worker",
                f"{worker_rss:.0f} MB",
                f"{worker_peak:.0f} MB",
                "≤ 200 MB",
                f"ran {result['worker']['jobs_run']:,} jobs in {args.seconds:g} s "
                f"(concurrency {args.concurrency})",
            ],
            [
                "web",
                f"{web_rss:.0f} MB",
                f"{web_peak:.0f} MB",
                "≤ 250 MB",
                f"idle {idle_rss:.0f} MB; signed in: {result['web']['signed_in']}; "
                f"{args.requests} GETs on each of "
                + ", ".join(f"{path} ({code})" for path, code in statuses.items()),
            ],
        ],
    )
    emit(
        {
            "bench": "B8",
            "backend": args.backend,
            "jobs": args.jobs,
            "worker_rss_mb": round(worker_peak, 1),
            "web_rss_mb": round(web_peak, 1),
            **result,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
