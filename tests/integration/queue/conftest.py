"""Fixtures of the queue's process tests: helper processes that never outlive a test, and
read-only sessions so the test's own polling never holds SQLite's write lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from queue_harness import Sessions, Spawner
from sqlalchemy.ext.asyncio import AsyncEngine

from finagency.core.db import create_read_sessionmaker


@pytest.fixture
def spawner(tmp_path: Path) -> Iterator[Spawner]:
    spawned = Spawner(tmp_path / "procs")
    try:
        yield spawned
    finally:
        spawned.close()


@pytest.fixture
def readers(engine: AsyncEngine) -> Sessions:
    return create_read_sessionmaker(engine)
