"""A legacy queue of 150 MB or more comes in whole, and a second run adds nothing.

The file is generated once per test session. The import's duration is printed (see it with
`pytest -s` or `--durations`); it is not asserted, because timing belongs in benchmarks.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.legacy import write_large_queue

from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.models import Brand, ImportLedger, Job, Post
from finagency.ops.legacy_import import import_files
from finagency.ops.legacy_mapping import load_mapping

MIN_BYTES = 150 * 1024 * 1024
MAPPING = """
brand: northwind
accounts:
  twitter: {platform: x, handle: northwindcap}
  linkedin: {platform: linkedin, handle: northwind-capital}
  telegram: {platform: telegram, handle: "@northwind_markets"}
files:
  - match: "posting_queue*.db"
    tables:
      - table: posting_queue
        into: post
        key: id
        fields:
          platform: platform
          text: post_text
          status: {column: status, values: {pending: scheduled, processing: scheduled,
                                            posted: published, failed: failed}}
          scheduled_at: scheduled_time
          published_at: posted_at
          external_url: post_url
          failure_reason: error_message
          created_at: created_at
"""

pytestmark = pytest.mark.large


@pytest.fixture(scope="session")
def large_queue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    path = tmp_path_factory.mktemp("legacy-large") / "posting_queue.db"
    rows = write_large_queue(path, min_bytes=MIN_BYTES)
    with sqlite3.connect(path) as connection:
        pending = connection.execute(
            "SELECT count(*) FROM posting_queue WHERE status IN ('pending', 'processing')"
        ).fetchone()[0]
    connection.close()
    return path, rows, pending


async def test_a_150_mb_legacy_queue_imports_whole_and_once(
    large_queue: tuple[Path, int, int], sqlite_template: Path, tmp_path: Path
) -> None:
    path, rows, pending = large_queue
    assert path.stat().st_size >= MIN_BYTES
    target = tmp_path / "finagency.db"
    shutil.copy(sqlite_template, target)
    engine = create_engine(f"sqlite+aiosqlite:///{target}")
    sessionmaker = create_sessionmaker(engine)
    async with transaction(sessionmaker) as session:
        session.add(Brand(slug="northwind", name="Northwind Capital"))
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(MAPPING)
    mapping = load_mapping(mapping_file)

    started = time.perf_counter()
    reports = await import_files(sessionmaker, mapping, [path])
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = await import_files(sessionmaker, mapping, [path])
    second = time.perf_counter() - started
    print(
        f"\nimported {rows} rows ({path.stat().st_size / 2**20:.0f} MB) in {first:.1f} s; "
        f"re-run (nothing new) in {second:.1f} s"
    )

    assert reports[0].committed and reports[0].tables[0].imported == rows
    assert again[0].tables[0].imported == 0 and again[0].tables[0].already_imported == rows
    async with sessionmaker() as session:
        posts = await session.scalar(select(func.count()).select_from(Post))
        jobs = await session.scalar(select(func.count()).select_from(Job))
        ledger = await session.scalar(select(func.count()).select_from(ImportLedger))
    await engine.dispose()
    assert (posts, jobs, ledger) == (rows, pending, rows)
