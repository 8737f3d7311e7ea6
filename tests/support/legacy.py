"""Generate SQLite files shaped like the seed system's: agency.db, posting_queue.db and
engagement_tracking.db (plain tables, naive local timestamps, free-text statuses, platform
names of its own such as "twitter"), including a few of the bad rows such systems collect.

Usable as a script: ``python -m tests.support.legacy OUT_DIR [--large-mb 150]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

AGENCY_SCHEMA = """
CREATE TABLE content (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_type TEXT,
    title TEXT,
    body TEXT,
    ticker TEXT,
    created_at TEXT
)"""
QUEUE_SCHEMA = """
CREATE TABLE posting_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_id INTEGER,
    platform TEXT,
    post_text TEXT,
    scheduled_time TEXT,
    status TEXT,
    retry_count INTEGER DEFAULT 0,
    error_message TEXT,
    posted_at TEXT,
    post_url TEXT,
    created_at TEXT
)"""
ENGAGEMENT_SCHEMA = """
CREATE TABLE engagement (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id INTEGER,
    platform TEXT,
    likes INTEGER,
    shares INTEGER,
    comments INTEGER,
    views INTEGER,
    clicks INTEGER,
    checked_at TEXT
)"""

TICKERS = ["AAPL", "MSFT", "NVDA", "SPY", "QQQ", "TLT", "BTC", "ETH", "EURUSD", "GLD"]
KINDS = ["market_update", "news_commentary", "educational", "weekly_recap"]
PLATFORMS = ["twitter", "linkedin", "telegram"]
STATUSES = ["posted", "posted", "posted", "pending", "failed", "processing"]
PHRASES = [
    "closed {move} at {price} as traders weighed the latest rate path",
    "volume ran {pct}% above its 30-day average into the close",
    "the curve between 2s and 10s moved {bp} basis points on the session",
    "options positioning points to a wider range into next week's data",
    "analysts flagged margins as the number to watch this quarter",
    "not investment advice; past performance does not guarantee future results",
]
START = datetime(2025, 9, 1, 8, 0, 0)


@dataclass(frozen=True)
class LegacySet:
    agency: Path
    queue: Path
    engagement: Path
    content_rows: int
    queue_rows: int
    engagement_rows: int
    # (file name, table, key) of rows the import must report as bad.
    bad: tuple[tuple[str, str, str], ...]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _text(rng: random.Random, ticker: str, sentences: int) -> str:
    parts = [f"${ticker}"]
    for _ in range(sentences):
        phrase = rng.choice(PHRASES)
        parts.append(
            phrase.format(
                move=rng.choice(["up", "down"]),
                price=f"{rng.uniform(10, 900):.2f}",
                pct=rng.randint(5, 90),
                bp=rng.randint(1, 25),
            )
            + "."
        )
    return " ".join(parts)


def _create(path: Path, schema: str) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute(schema)
    return connection


def _queue_row(
    rng: random.Random, row_id: int, content_id: int | None, platform: str, sentences: int
) -> tuple[object, ...]:
    status = rng.choice(STATUSES)
    scheduled = START + timedelta(minutes=17 * row_id)
    posted = scheduled + timedelta(minutes=rng.randint(0, 240)) if status == "posted" else None
    return (
        row_id,
        content_id,
        platform,
        _text(rng, rng.choice(TICKERS), sentences),
        _stamp(scheduled),
        status,
        rng.randint(0, 3) if status == "failed" else 0,
        "HTTP 429 Too Many Requests" if status == "failed" else None,
        _stamp(posted) if posted else None,
        f"https://example.com/{platform}/status/{row_id}" if posted else None,
        _stamp(scheduled - timedelta(hours=2)),
    )


def write_legacy_set(directory: Path, *, content_rows: int = 40, seed: int = 7) -> LegacySet:
    """A small, complete legacy install: every queue item has content, some have engagement."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    agency = _create(directory / "agency.db", AGENCY_SCHEMA)
    with agency:
        agency.executemany(
            "INSERT INTO content VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    cid,
                    rng.choice(KINDS),
                    f"Note {cid}",
                    _text(rng, rng.choice(TICKERS), 3),
                    rng.choice(TICKERS),
                    _stamp(START + timedelta(hours=cid)),
                )
                for cid in range(1, content_rows + 1)
            ],
        )
        # Bad: no body at all.
        agency.execute(
            "INSERT INTO content VALUES (?, 'market_update', 'Empty', '', 'SPY', ?)",
            (content_rows + 1, _stamp(START)),
        )
    agency.close()

    queue = _create(directory / "posting_queue.db", QUEUE_SCHEMA)
    rows = []
    row_id = 0
    for cid in range(1, content_rows + 1):
        for platform in rng.sample(PLATFORMS, k=rng.randint(1, 3)):
            row_id += 1
            rows.append(_queue_row(rng, row_id, cid, platform, 2))
    bad_platform = (
        (row_id + 1, 1, "myspace", "Hello", _stamp(START), "pending") + (0,) + (None,) * 4
    )
    bad_time = (
        (row_id + 2, None, "twitter", "Later", "next tuesday", "pending") + (0,) + (None,) * 4
    )
    with queue:
        queue.executemany("INSERT INTO posting_queue VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        queue.executemany(
            "INSERT INTO posting_queue VALUES (?,?,?,?,?,?,?,?,?,?,?)", [bad_platform, bad_time]
        )
    queue.close()

    engagement = _create(directory / "engagement_tracking.db", ENGAGEMENT_SCHEMA)
    snapshots = []
    snapshot_id = 0
    for row in rows:
        if row[5] != "posted":
            continue
        for hour in range(rng.randint(1, 3)):
            snapshot_id += 1
            snapshots.append(
                (
                    snapshot_id,
                    row[0],
                    row[2],
                    rng.randint(0, 500),
                    rng.randint(0, 80),
                    rng.randint(0, 40),
                    rng.randint(100, 20000),
                    rng.randint(0, 300),
                    _stamp(START + timedelta(minutes=17 * int(row[0]) + 60 * (hour + 1))),
                )
            )
    orphan = (snapshot_id + 1, 999_999, "twitter", 1, 1, 1, 1, 1, _stamp(START))
    with engagement:
        engagement.executemany("INSERT INTO engagement VALUES (?,?,?,?,?,?,?,?,?)", snapshots)
        engagement.execute("INSERT INTO engagement VALUES (?,?,?,?,?,?,?,?,?)", orphan)
    engagement.close()
    return LegacySet(
        agency=directory / "agency.db",
        queue=directory / "posting_queue.db",
        engagement=directory / "engagement_tracking.db",
        content_rows=content_rows,
        queue_rows=len(rows),
        engagement_rows=len(snapshots),
        bad=(
            ("agency.db", "content", str(content_rows + 1)),
            ("posting_queue.db", "posting_queue", str(bad_platform[0])),
            ("posting_queue.db", "posting_queue", str(bad_time[0])),
            ("engagement_tracking.db", "engagement", str(orphan[0])),
        ),
    )


def _large_rows(rng: random.Random, start_id: int, count: int) -> Iterator[tuple[object, ...]]:
    for row_id in range(start_id, start_id + count):
        # Long-form posts (LinkedIn-length), as the seed system kept every variant it drafted.
        yield _queue_row(rng, row_id, None, PLATFORMS[row_id % 3], 18)


def write_large_queue(path: Path, *, min_bytes: int, seed: int = 11) -> int:
    """A posting_queue.db of at least ``min_bytes`` (queue items without content rows, as the
    seed system's queue held after its content database was rotated); returns its row count."""
    rng = random.Random(seed)
    connection = _create(path, QUEUE_SCHEMA)
    rows, chunk = 0, 20_000
    while path.stat().st_size < min_bytes:
        with connection:
            connection.executemany(
                "INSERT INTO posting_queue VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                _large_rows(rng, rows + 1, chunk),
            )
        rows += chunk
    connection.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--large-mb", type=int, default=0)
    args = parser.parse_args()
    legacy = write_legacy_set(args.out)
    print(f"wrote {legacy.agency}, {legacy.queue}, {legacy.engagement}")
    if args.large_mb:
        large = args.out / "large" / "posting_queue.db"
        large.parent.mkdir(parents=True, exist_ok=True)
        count = write_large_queue(large, min_bytes=args.large_mb * 1024 * 1024)
        print(f"wrote {large}: {count} rows")


if __name__ == "__main__":
    main()
