"""Engine and session factory for SQLite and PostgreSQL, with SQLite's PRAGMAs and write locking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Execution option that marks a connection as read-only, so SQLite opens a plain BEGIN.
READ_ONLY = "finagency_read_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, busy_timeout_ms: int = 5000) -> AsyncEngine:
    """Build the async engine; on SQLite, make sure the file's folder exists and set PRAGMAs."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=echo,
            # Opening a connection and setting its PRAGMAs costs milliseconds, more than a
            # claim; a small pool keeps them. Locks are per transaction, not per connection.
            pool_size=5,
            max_overflow=20,
            connect_args={"timeout": busy_timeout_ms / 1000},
        )
        _install_sqlite_pragmas(engine, busy_timeout_ms)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _install_sqlite_pragmas(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver: it would issue a deferred BEGIN, and a
        # deferred transaction that later writes fails at once with SQLITE_BUSY under load
        # (busy_timeout does not apply to that upgrade). We issue BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer and the writer never blocks readers, which the
        # dashboard (reads) and the workers (writes) need at the same time.
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed post or job survives power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        # SQLite does not enforce foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Wait for the write lock instead of failing at once when another writer holds it.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # Readers take no lock in WAL mode; a plain BEGIN gives them a snapshot.
            connection.exec_driver_sql("BEGIN")
        else:
            # IMMEDIATE takes the write lock up front, so the transaction waits (busy_timeout)
            # rather than failing half-way when it tries to write after reading.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that may write (on SQLite each transaction takes the write lock at BEGIN).

    ``info`` rides along on every session (the queue puts its wake-up notifier there).
    """
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True, info=info)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for pages and stats that only read; on SQLite they never wait for writers."""
    return async_sessionmaker(
        engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, autoflush=False
    )


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work for an edge (job, CLI command): commit on success, roll back on error."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
