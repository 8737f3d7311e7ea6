"""Apply and inspect the Alembic chain from code (CLI, app start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from finagency.core.db import create_engine

_ROOT = Path(__file__).resolve().parents[3]


def alembic_config() -> Config:
    """The Alembic config of this checkout (migrations live next to src/, not inside it)."""
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_database(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (idempotent)."""
    config = alembic_config()
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade, config)
        await connection.commit()
    await engine.dispose()


def _check(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.check(config)


async def check_database(url: str) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    config = alembic_config()
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_check, config)
    await engine.dispose()
