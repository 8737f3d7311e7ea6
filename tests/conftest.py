"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), migrated once."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from finagency.auth import passwords
from finagency.core.db import create_engine, create_sessionmaker
from finagency.models import Base
from finagency.ops.migrations import upgrade_database

POSTGRES_URL = os.environ.get("FINAGENCY_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FINAGENCY_TEST_REDIS_URL")
FIXTURES = Path(__file__).parent / "fixtures"

POSTGRES_SKIP_REASON = (
    "PostgreSQL tests need FINAGENCY_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres); .ci/run sets it"
)


REQUIRE_SERVICES = os.environ.get("FINAGENCY_TEST_REQUIRE_SERVICES") == "1"

# In-process tests hash with cheap Argon2id parameters (still Argon2id, still verified): the
# product's cost (t=3, 64 MiB) would otherwise dominate every test that seeds users. Processes the
# end-to-end tests start keep the real parameters.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In CI every service is there: a test skipped for a missing service is a failure."""
    if not REQUIRE_SERVICES:
        return
    missing = [
        name
        for name, present in (
            ("FINAGENCY_TEST_POSTGRES_URL", POSTGRES_URL),
            ("FINAGENCY_TEST_REDIS_URL", REDIS_URL),
        )
        if not present
    ]
    if missing:
        raise pytest.UsageError(f"FINAGENCY_TEST_REQUIRE_SERVICES is set but {missing} are not")


def _backends() -> list[object]:
    return [
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL, reason=POSTGRES_SKIP_REASON),
            ],
        ),
    ]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade_database(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    assert POSTGRES_URL
    admin_url = make_url(POSTGRES_URL)
    name = f"finagency_test_{uuid.uuid4().hex[:10]}"

    async def _admin(statement: str) -> None:
        engine = create_engine(admin_url.render_as_string(hide_password=False))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(upgrade_database(url))
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "finagency.db"
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


def _truncate_all(url: str) -> None:
    """Every PostgreSQL test starts from empty tables on the shared, migrated database."""
    import psycopg

    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)
