"""Operator commands: database, demo data, users, stats and the audit trail."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from finagency.analytics.service import DEFINITIONS, compute_stats
from finagency.audit import retention
from finagency.audit import service as audit
from finagency.auth import service as auth
from finagency.auth import users
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.errors import AppError, NotFound
from finagency.core.time import utcnow
from finagency.models import Brand
from finagency.ops import demo as demo_data
from finagency.ops.migrations import check_database, upgrade_database
from finagency.runtime import open_services

console = Console(stderr=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


def _fail(error: AppError) -> None:
    console.print(f"[red]error[/red] {error.code}: {error.message}")
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    settings = Settings()
    asyncio.run(upgrade_database(settings.db_url))
    console.print("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    asyncio.run(check_database(Settings().db_url))
    console.print("models and migrations agree")


def demo() -> None:
    """Load the demo brand, users and sample data into an empty database (migrates first)."""
    settings = Settings()

    async def main() -> bool:
        await upgrade_database(settings.db_url)
        async with open_services(settings) as services:
            return await demo_data.seed_if_empty(services, announce=True)

    if not asyncio.run(main()):
        console.print("the database is not empty; the demo was not loaded again")


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    brand: Annotated[str | None, typer.Option(help="Only this brand (slug).")] = None,
) -> None:
    """The Overview's numbers, straight from the database."""
    settings = Settings()

    async def main() -> dict[str, object]:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            brand_ids = None
            if brand:
                brand_id = await session.scalar(select(Brand.id).where(Brand.slug == brand))
                if brand_id is None:
                    raise typer.BadParameter(f"no brand with slug {brand!r}")
                brand_ids = [brand_id]
            result = await compute_stats(session, now=utcnow(), brand_ids=brand_ids)
            return result.to_dict()

    figures = asyncio.run(main())
    if as_json:
        sys.stdout.write(json.dumps(figures, default=str) + "\n")
        return
    table = Table("metric", "value", "definition", title="finagency stats")
    for key, value in figures.items():
        if key in {"jobs_by_state", "as_of"}:
            continue
        table.add_row(key, str(value), DEFINITIONS.get(key, ""))
    Console().print(table)
    Console().print(f"jobs by state: {figures['jobs_by_state']}  (as of {figures['as_of']})")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    admin: Annotated[
        bool, typer.Option("--admin", help="Agency admin: every role on every brand.")
    ] = False,
    brand: Annotated[str | None, typer.Option(help="Brand slug to grant a role on.")] = None,
    role: Annotated[
        str | None, typer.Option(help="editor, approver, client, operator or admin.")
    ] = None,
) -> None:
    """Create a user (the first admin, or anyone)."""
    settings = Settings()

    async def main() -> None:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            user = await auth.create_user(session, email, password, is_admin=admin)
            if brand and role:
                brand_id = await session.scalar(select(Brand.id).where(Brand.slug == brand))
                if brand_id is None:
                    raise typer.BadParameter(f"no brand with slug {brand!r}")
                await auth.grant_role(session, user.id, brand_id, role)
            await audit.record(
                session,
                actor="cli",
                action="user.created",
                object_type="user",
                object_id=user.id,
                data={"email": user.email, "admin": admin},
            )

    try:
        asyncio.run(main())
    except AppError as error:
        _fail(error)
    console.print(f"user {email} created")


@user_app.command("list")
def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Every user with their status and roles per brand."""
    settings = Settings()

    async def main() -> list[dict[str, object]]:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            rows = await session.execute(select(Brand.id, Brand.slug))
            slugs: dict[int, str] = {int(row[0]): str(row[1]) for row in rows}
            return [
                {
                    "id": row.user.id,
                    "email": row.user.email,
                    "name": row.user.name,
                    "admin": row.user.is_admin,
                    "active": row.user.active,
                    "roles": {slugs.get(b, str(b)): roles for b, roles in row.roles.items()},
                }
                for row in await users.list_users(session)
            ]

    found = asyncio.run(main())
    if as_json:
        sys.stdout.write(json.dumps(found) + "\n")
        return
    table = Table("id", "email", "admin", "active", "roles", title="users")
    for item in found:
        roles = item["roles"]
        assert isinstance(roles, dict)
        table.add_row(
            str(item["id"]),
            str(item["email"]),
            "yes" if item["admin"] else "",
            "yes" if item["active"] else "no",
            "; ".join(f"{brand}: {', '.join(names)}" for brand, names in roles.items()),
        )
    Console().print(table)


@user_app.command("set-role")
def user_set_role(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    brand: Annotated[str, typer.Option(help="Brand slug.")],
    role: Annotated[
        str, typer.Option(help="admin, editor, approver, client, operator, or none to remove.")
    ],
) -> None:
    """Make ROLE the user's one role on BRAND (none removes them from the brand); audited."""
    settings = Settings()

    async def main() -> None:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            user = await users.user_by_email(session, email)
            brand_id = await session.scalar(select(Brand.id).where(Brand.slug == brand))
            if brand_id is None:
                raise NotFound(f"no brand with slug {brand!r}")
            wanted = None if role == "none" else role
            await users.set_brand_role(session, user.id, brand_id, wanted)
            await audit.record(
                session,
                actor="cli",
                action="user.role_changed",
                object_type="user",
                object_id=user.id,
                brand_id=brand_id,
                data={"after": wanted},
            )

    try:
        asyncio.run(main())
    except AppError as error:
        _fail(error)
    console.print(f"{email}: {role} on {brand}")


@user_app.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from stdin.")
    ] = False,
) -> None:
    """Set a new password (from stdin, or a random one printed once); ends their sessions."""
    settings = Settings()
    if password_stdin:
        new_password = sys.stdin.readline().rstrip("\r\n")
    else:
        new_password = auth.temporary_password()

    async def main() -> int:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            user = await users.user_by_email(session, email)
            ended = await auth.set_password(session, user, new_password)
            await audit.record(
                session,
                actor="cli",
                action="user.password_reset",
                object_type="user",
                object_id=user.id,
                data={"sessions_ended": ended},
            )
            return ended

    try:
        ended = asyncio.run(main())
    except AppError as error:
        _fail(error)
    console.print(f"password of {email} reset; {ended} session(s) ended; any lockout lifted")
    if not password_stdin:
        # The only place this password ever appears: stdout, once.
        sys.stdout.write(new_password + "\n")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 if any event was altered, removed or reordered."""
    settings = Settings()

    async def main() -> audit.ChainReport:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            return await audit.verify_chain(session)

    report = asyncio.run(main())
    pruned = (
        f" (pruned through event {report.pruned_through_id})" if report.pruned_through_id else ""
    )
    if report.ok:
        console.print(f"audit chain intact: {report.checked} events verified{pruned}")
        return
    where = f"at event {report.first_bad_id}" if report.first_bad_id else "at its start"
    good = f"; last good event {report.last_good_id}" if report.last_good_id else ""
    console.print(f"[red]audit chain broken[/red] {where}: {report.problem}{good}{pruned}")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    brand: Annotated[str | None, typer.Option(help="Only this brand's events (slug).")] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Write audit events as JSON lines, with retention_until and legal_hold (audited)."""
    settings = Settings()

    async def main(sink: TextIO) -> int:
        count = 0
        async with open_services(settings) as services:
            async with services.read_sessionmaker() as session:
                brand_id = None
                if brand:
                    brand_id = await session.scalar(select(Brand.id).where(Brand.slug == brand))
                    if brand_id is None:
                        raise typer.BadParameter(f"no brand with slug {brand!r}")
                view = await retention.retention_view(session)
                async for line in audit.export_jsonl(
                    session, brand_id=brand_id, annotate=view.annotate
                ):
                    sink.write(line + "\n")
                    count += 1
            async with transaction(services.sessionmaker) as session:
                await audit.record(
                    session,
                    actor="cli",
                    action="audit.exported",
                    object_type="audit_event",
                    object_id=brand or "all",
                    brand_id=brand_id,
                    data={"events": count, "format": "jsonl", "to": output or "stdout"},
                )
        return count

    if output:
        with open(output, "w", encoding="utf-8") as sink:
            count = asyncio.run(main(sink))
    else:
        count = asyncio.run(main(sys.stdout))
    console.print(f"exported {count} events")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    app.command()(demo)
    app.command()(stats)
