"""`finagency user create | list | set-role | reset-password` on a real database."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from typer.testing import CliRunner

from finagency.auth import service
from finagency.brands import service as brands
from finagency.cli.main import app
from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.core.errors import NotAuthenticated
from finagency.models import AuditEvent


def _run(database_url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        app,
        list(args),
        input=stdin,
        env={"FINAGENCY_DATABASE_URL": database_url, "FINAGENCY_SECRET_KEY": "cli-test-secret"},
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def _db(database_url: str, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        engine = create_engine(database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_user_commands_end_to_end(database_url: str) -> None:
    async def make_brand(session):  # type: ignore[no-untyped-def]
        await brands.create_brand(session, slug="acme", name="Acme")

    _db(database_url, make_brand)
    code, _, err = _run(
        database_url,
        "user",
        "create",
        "--email",
        "Ed@Example.com",
        "--password",
        "a good long password",
        "--brand",
        "acme",
        "--role",
        "editor",
    )
    assert code == 0, err

    code, out, _ = _run(
        database_url, "user", "set-role", "ed@example.com", "--brand", "acme", "--role", "approver"
    )
    assert code == 0
    code, out, _ = _run(database_url, "user", "list", "--json")
    listed = json.loads(out)
    assert listed == [
        {
            "id": listed[0]["id"],
            "email": "ed@example.com",
            "name": "",
            "admin": False,
            "active": True,
            "roles": {"acme": ["approver"]},
        }
    ]
    code, _, err = _run(
        database_url, "user", "set-role", "ed@example.com", "--brand", "acme", "--role", "boss"
    )
    assert code == 2 and "unknown role" in err
    code, _, err = _run(
        database_url,
        "user",
        "set-role",
        "nobody@example.com",
        "--brand",
        "acme",
        "--role",
        "editor",
    )
    assert code == 2 and "no user with email" in err

    # A printed one-time password, then one read from stdin; each replaces the last.
    code, out, _ = _run(database_url, "user", "reset-password", "ed@example.com")
    # (Log lines may share stdout; the password is the command's last line.)
    printed = out.strip().splitlines()[-1]
    assert code == 0 and len(printed) >= 20

    def check(password: str):  # type: ignore[no-untyped-def]
        async def work(session):  # type: ignore[no-untyped-def]
            try:
                await service.authenticate(session, "ed@example.com", password)
            except NotAuthenticated:
                return False
            return True

        return work

    assert _db(database_url, (check(printed))) is True
    code, out, _ = _run(
        database_url,
        "user",
        "reset-password",
        "ed@example.com",
        "--password-stdin",
        stdin="chosen by the operator\n",
    )
    assert code == 0 and "chosen by the operator" not in out
    assert _db(database_url, (check(printed))) is False
    assert _db(database_url, (check("chosen by the operator"))) is True

    async def actions(session):  # type: ignore[no-untyped-def]
        return list((await session.scalars(select(AuditEvent.action))).all())

    logged = _db(database_url, actions)
    assert logged.count("user.password_reset") == 2
    assert "user.role_changed" in logged
