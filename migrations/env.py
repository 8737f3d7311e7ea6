"""Alembic environment: one chain for SQLite (batch mode) and PostgreSQL, run on the async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from finagency.config import Settings
from finagency.core.db import create_engine
from finagency.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    # An explicit URL (tests, `finagency db upgrade --url`) wins over the settings.
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or Settings().db_url
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if context.is_offline_mode():
    run_migrations_offline()
elif connection is not None:
    _run_sync(connection)
else:
    asyncio.run(_run_async())
