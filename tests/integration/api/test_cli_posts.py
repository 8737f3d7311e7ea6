"""`finagency posts export | import` on a seeded database."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from api_support import api_settings
from sqlalchemy import func, select
from typer.testing import CliRunner
from web_support import SEED_POSTS, seed_database

from finagency.cli.main import app
from finagency.models import Post, PostStatus
from finagency.runtime import open_services


async def _seed(database_url: str) -> None:
    async with open_services(api_settings(database_url)) as services:
        await seed_database(services)


async def _in_review(database_url: str) -> list[str]:
    async with (
        open_services(api_settings(database_url)) as services,
        services.read_sessionmaker() as session,
    ):
        rows = await session.scalars(
            select(Post.text).where(Post.status == PostStatus.IN_REVIEW.value).order_by(Post.id)
        )
        return list(rows)


async def _count(database_url: str) -> int:
    async with (
        open_services(api_settings(database_url)) as services,
        services.read_sessionmaker() as session,
    ):
        return int(await session.scalar(select(func.count(Post.id))) or 0)


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(_seed(database_url))
    monkeypatch.setenv("FINAGENCY_DATABASE_URL", database_url)
    monkeypatch.setenv("FINAGENCY_SECRET_KEY", "test-secret-key-for-api-tests-0123")
    return database_url


def test_export_writes_the_brands_posts(seeded: str, tmp_path: Path) -> None:
    target = tmp_path / "posts.csv"

    result = CliRunner().invoke(app, ["posts", "export", "--brand", "beta", "-o", str(target)])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert sorted(row["text"] for row in rows) == sorted(
        spec.text for spec in SEED_POSTS if spec.brand == "b"
    )


def test_import_reports_rows_and_imports_nothing_when_one_is_bad(
    seeded: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("platform,text\nsandbox,From the terminal\nsandbox,\n", encoding="utf-8")
    before = asyncio.run(_count(seeded))

    refused = CliRunner().invoke(
        app, ["posts", "import", str(source), "--brand", "acme", "--as", "editor@example.com"]
    )

    assert refused.exit_code == 1
    assert "row 3, column text" in refused.output
    assert asyncio.run(_count(seeded)) == before

    source.write_text("platform,text\nsandbox,From the terminal\n", encoding="utf-8")
    done = CliRunner().invoke(
        app, ["posts", "import", str(source), "--brand", "acme", "--as", "editor@example.com"]
    )

    assert done.exit_code == 0, done.output
    assert "From the terminal" in asyncio.run(_in_review(seeded))
