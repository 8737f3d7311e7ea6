"""B5: `/api/v1/stats` and the Overview page under 50 concurrent clients, at growing table sizes.

For each size, the scratch database gets that many posts (mixed statuses over 30 days) and
that many jobs (set-based SQL, the rows ``enqueue`` writes); ``finagency web`` is started on
it, then 50 clients call the endpoint back to back for a few seconds each: the stats API with
an agency admin's API token, the Overview page with a signed-in session. The target is p99
≤ 20 ms (API) and ≤ 50 ms (page), flat from 10k to 1M rows:

    python -m benchmarks.api_stats --sizes 10000,1000000        # the target's sizes
    python -m benchmarks.api_stats                               # quick: 10k and 100k
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text

from benchmarks import _ours
from benchmarks._common import (
    REPO_ROOT,
    base_parser,
    child_env,
    emit,
    free_port,
    machine,
    percentile,
    print_table,
    scratch,
    spawn,
    stop,
    venv_script,
    wait_for_port,
)
from benchmarks.memory import ADMIN_EMAIL, ADMIN_PASSWORD, _sign_in, _tail
from finagency.auth import service as auth
from finagency.auth.tokens import permissions_for_scopes
from finagency.core.db import transaction
from finagency.models import User

STATUSES = ("published", "published", "published", "scheduled", "in_review", "failed", "draft")
ITEM_BASE = 1_000_000_000  # a post's content item id is ITEM_BASE + its number (one each)
_SQLITE_ITEMS = """
WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last)
INSERT INTO content_item (id, brand_id, kind, title, factsheet, generator, model,
                          prompt_template_id, prompt_hash, raw_output, seed, input_tokens,
                          output_tokens, cost_usd, created_at)
SELECT :base + i, :brand, 'bench', '', '{}', 'template', '', '', '', '', 0, 0, 0, 0, :now FROM n
"""
_POSTGRES_ITEMS = """
INSERT INTO content_item (id, brand_id, kind, title, factsheet, generator, model,
                          prompt_template_id, prompt_hash, raw_output, seed, input_tokens,
                          output_tokens, cost_usd, created_at)
SELECT :base + i, :brand, 'bench', '', '{}', 'template', '', '', '', '', 0, 0, 0, 0, :now
FROM generate_series(:first, :last) AS i
"""
_SQLITE_POSTS = """
WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last)
INSERT INTO post (brand_id, content_item_id, account_id, platform, text, parts, media, status,
                  version, content_hash, check_verdict, created_at, updated_at, scheduled_at,
                  published_at)
SELECT :brand, :base + i, :account, 'sandbox', 'bench post ' || i, '[]', '[]',
       CASE i % 7 WHEN 0 THEN 'published' WHEN 1 THEN 'published' WHEN 2 THEN 'published'
                  WHEN 3 THEN 'scheduled' WHEN 4 THEN 'in_review' WHEN 5 THEN 'failed'
                  ELSE 'draft' END,
       1, printf('%064d', i), 'pass',
       datetime(:now, '-' || (i % 43200) || ' minutes'), :now,
       datetime(:now, '-' || (i % 43200) || ' minutes'),
       CASE WHEN i % 7 < 3 THEN datetime(:now, '-' || (i % 43200) || ' minutes') END
FROM n
"""
_POSTGRES_POSTS = """
INSERT INTO post (brand_id, content_item_id, account_id, platform, text, parts, media, status,
                  version, content_hash, check_verdict, created_at, updated_at, scheduled_at,
                  published_at)
SELECT :brand, :base + i, :account, 'sandbox', 'bench post ' || i, '[]', '[]',
       (ARRAY['published','published','published','scheduled','in_review','failed','draft'])
           [i % 7 + 1],
       1, lpad(i::text, 64, '0'), 'pass',
       :now - make_interval(mins => i % 43200), :now,
       :now - make_interval(mins => i % 43200),
       CASE WHEN i % 7 < 3 THEN :now - make_interval(mins => i % 43200) END
FROM generate_series(:first, :last) AS i
"""


async def _setup(url: str) -> tuple[int, int, int, str]:
    """One brand, account and content item, the admin's API token; returns their ids."""
    engine, sessionmaker = _ours.open_db(url)
    try:
        async with transaction(sessionmaker) as session:
            brand = (
                await session.execute(
                    text(
                        "INSERT INTO brand (slug, name, regime, timezone, disclosure, "
                        "link_allowlist, auto_approve_kinds, maker_checker, "
                        "max_lateness_minutes, settings) VALUES ('bench', 'Bench', 'default', "
                        "'UTC', '', '[]', '[]', true, 120, '{}') RETURNING id"
                    )
                )
            ).scalar_one()
            account = (
                await session.execute(
                    text(
                        "INSERT INTO account (brand_id, platform, handle, display_name, status, "
                        "rate_limit_state, breaker_state, consecutive_failures) VALUES "
                        "(:brand, 'sandbox', 'bench', '', 'active', '{}', 'closed', 0) "
                        "RETURNING id"
                    ),
                    {"brand": brand},
                )
            ).scalar_one()
            item = (
                await session.execute(
                    text(
                        "INSERT INTO content_item (brand_id, kind, title, factsheet, generator, "
                        "model, prompt_template_id, prompt_hash, raw_output, seed, "
                        "input_tokens, output_tokens, cost_usd) VALUES (:brand, 'bench', '', "
                        "'{}', 'template', '', '', '', '', 0, 0, 0, 0) RETURNING id"
                    ),
                    {"brand": brand},
                )
            ).scalar_one()
            user = await session.scalar(select(User).where(User.email == ADMIN_EMAIL))
            assert user is not None
            _, token = await auth.create_api_token(
                session, user, "bench", permissions_for_scopes(["read"])
            )
        return brand, account, item, token
    finally:
        await engine.dispose()


async def _grow(url: str, ids: tuple[int, int, int], have: int, want: int) -> float:
    """Bring posts and jobs from ``have`` to ``want`` rows each; returns the seconds taken."""
    engine, sessionmaker = _ours.open_db(url)
    started = time.perf_counter()
    try:
        async with sessionmaker() as probe:
            postgres = probe.get_bind().dialect.name == "postgresql"
        now = datetime.now(UTC)
        stamp: Any = now if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        for low in range(have, want, 100_000):
            high = min(low + 100_000, want) - 1
            values = {
                "first": low,
                "last": high,
                "brand": ids[0],
                "account": ids[1],
                "base": ITEM_BASE,
                "now": stamp,
            }
            async with transaction(sessionmaker) as session:
                await session.execute(text(_POSTGRES_ITEMS if postgres else _SQLITE_ITEMS), values)
                await session.execute(text(_POSTGRES_POSTS if postgres else _SQLITE_POSTS), values)
        await _ours.bulk_insert_jobs(
            sessionmaker, want - have, run_at=now + timedelta(days=1), first=have
        )
        if postgres:
            async with sessionmaker() as session:
                await session.execute(text("ANALYZE post"))
                await session.commit()
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def _load(
    base: str, path: str, *, clients: int, seconds: float, headers: dict[str, str], cookies: Any
) -> tuple[list[float], dict[int, int]]:
    """``clients`` loops calling ``path`` until ``seconds`` pass; latencies in ms, status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, cookies=cookies, limits=limits, timeout=30
    ) as client:
        await client.get(path)  # warm: the first call fills the cache
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        await asyncio.gather(*(loop() for _ in range(clients)))
    return latencies, statuses


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--sizes", default="10000,100000", help="posts (and jobs) per step")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0, help="load per endpoint per step")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    rows: list[list[Any]] = []
    steps: list[dict[str, Any]] = []
    with scratch(args.backend, args.postgres_url, "b5") as db:
        asyncio.run(_ours.prepare(db.url))
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
                *("user", "create", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD),
                "--admin",
            ],
            env=child_env(env),
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
        brand, account, item, token = asyncio.run(_setup(db.url))
        have = 0
        for size in sizes:
            fill = asyncio.run(_grow(db.url, (brand, account, item), have, size))
            have = size
            port = free_port()
            web = spawn(
                [venv_script("finagency"), "web", "--port", str(port)],
                db.workdir / f"web-{size}.log",
                env,
            )
            try:
                wait_for_port(port, timeout=60)
                base = f"http://127.0.0.1:{port}"
                with httpx.Client(base_url=base, timeout=60) as browser:
                    if not _sign_in(browser):
                        raise RuntimeError(f"sign-in failed:\n{_tail(db.workdir / 'web.log')}")
                    cookies = browser.cookies
                api, api_status = asyncio.run(
                    _load(
                        base,
                        "/api/v1/stats",
                        clients=args.clients,
                        seconds=args.seconds,
                        headers={"Authorization": f"Bearer {token}"},
                        cookies=None,
                    )
                )
                page, page_status = asyncio.run(
                    _load(
                        base,
                        "/",
                        clients=args.clients,
                        seconds=args.seconds,
                        headers={"Accept": "text/html"},
                        cookies=cookies,
                    )
                )
            finally:
                stop(web)
            step = {
                "rows": size,
                "fill_s": round(fill, 1),
                "api_p50_ms": round(percentile(api, 50), 1),
                "api_p99_ms": round(percentile(api, 99), 1),
                "api_rps": round(len(api) / args.seconds),
                "api_statuses": api_status,
                "page_p50_ms": round(percentile(page, 50), 1),
                "page_p99_ms": round(percentile(page, 99), 1),
                "page_rps": round(len(page) / args.seconds),
                "page_statuses": page_status,
            }
            steps.append(step)
            rows.append(
                [
                    f"{size:,}",
                    f"{step['api_p50_ms']} / {step['api_p99_ms']} ms",
                    step["api_rps"],
                    f"{step['page_p50_ms']} / {step['page_p99_ms']} ms",
                    step["page_rps"],
                    f"api {api_status}, page {page_status}",
                ]
            )
    print_table(
        f"B5 /api/v1/stats and the Overview page, {args.clients} clients, backend {args.backend}"
        " (targets: p99 ≤ 20 ms API, ≤ 50 ms page, flat across sizes)",
        ["posts = jobs", "API p50 / p99", "API req/s", "page p50 / p99", "page req/s", "statuses"],
        rows,
    )
    first, last = steps[0], steps[-1]
    emit(
        {
            "bench": "B5",
            "backend": args.backend,
            "clients": args.clients,
            "api_p99_ms": last["api_p99_ms"],
            "page_p99_ms": last["page_p99_ms"],
            "api_p99_growth": round(last["api_p99_ms"] / max(first["api_p99_ms"], 0.1), 2),
            "page_p99_growth": round(last["page_p99_ms"] / max(first["page_p99_ms"], 0.1), 2),
            "steps": steps,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
