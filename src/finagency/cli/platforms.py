"""`finagency account`, `finagency publish` and `finagency fake-platforms`: platforms from a terminal."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import httpx
import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.errors import AppError
from finagency.core.http import build_guarded_client
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import PostRequest
from finagency.integrations.platforms.fakes import server as fakes
from finagency.integrations.platforms.registry import PLATFORMS, build_client
from finagency.models import Account, Brand
from finagency.publishing import accounts as account_service
from finagency.publishing import connect
from finagency.publishing.clients import client_for
from finagency.runtime import open_services

# The CLI acts for whoever runs it on the server; OAuth states it starts are bound to this id.
CLI_USER = 0
account_app = typer.Typer(
    help="Platform accounts: add, list, verify, remove.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)


def _load_credentials(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"cannot read credentials from {path}: {error}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold a JSON object")
    return {str(key): str(value) for key, value in data.items()}


def _fail(error: AppError) -> None:
    err.print(f"[red]error[/red] {error.code}: {error.message}")
    raise typer.Exit(2)


@account_app.command("add")
def account_add(
    brand: Annotated[str, typer.Option(help="Brand slug.")],
    platform: Annotated[str, typer.Option(help=f"One of: {', '.join(sorted(PLATFORMS))}.")],
    handle: Annotated[str, typer.Option(help="The account's handle, as people know it.")],
    credentials: Annotated[Path, typer.Option(help="JSON file with the platform's credentials.")],
    base_url: Annotated[
        str | None, typer.Option(help="API base (Mastodon instance, Bluesky PDS, a fake).")
    ] = None,
) -> None:
    """Connect an account; its credentials are encrypted before they are stored."""
    if platform not in PLATFORMS:
        raise typer.BadParameter(f"unknown platform {platform!r}")
    creds = _load_credentials(credentials)
    settings = Settings()

    async def main() -> int:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            found = (
                await session.execute(select(Brand).where(Brand.slug == brand))
            ).scalar_one_or_none()
            if found is None:
                raise typer.BadParameter(f"no brand with slug {brand!r}")
            account = await account_service.connect_account(
                session,
                services.secret_box,
                found,
                platform=platform,
                handle=handle,
                credentials=creds,
                base_url=base_url,
                actor="cli",
            )
            return account.id

    try:
        account_id = asyncio.run(main())
    except AppError as error:
        _fail(error)
    out.print(
        f"account {account_id} ({platform} {handle}) connected; run `finagency account verify {account_id}`"
    )


@account_app.command("list")
def account_list() -> None:
    """Every account with its platform, status and token expiry (never its credentials)."""
    settings = Settings()

    async def main() -> list[tuple[Account, str]]:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            rows = await session.execute(
                select(Account, Brand.slug).join(Brand).order_by(Account.id)
            )
            return [(account, slug) for account, slug in rows.all()]

    table = Table("id", "brand", "platform", "handle", "status", "token expires", "base url")
    for account, slug in asyncio.run(main()):
        expires = (
            account.token_expires_at.isoformat(timespec="minutes")
            if account.token_expires_at
            else ""
        )
        table.add_row(
            str(account.id),
            slug,
            account.platform,
            account.handle,
            account.status,
            expires,
            account.base_url or "",
        )
    out.print(table)


@account_app.command("verify")
def account_verify(account_id: int) -> None:
    """Ask the platform who these credentials belong to; reconnects a dead account if they work."""
    settings = Settings()

    async def main() -> str:
        async with open_services(settings) as services:
            async with services.read_sessionmaker() as session:
                account = await account_service.get_account(session, account_id)
            identity = await client_for(account, services).verify()
            async with transaction(services.sessionmaker) as session:
                account = await account_service.get_account(session, account_id)
                await account_service.mark_reconnected(session, account, actor="cli")
            return f"{identity.handle} (id {identity.id})"

    try:
        who = asyncio.run(main())
    except AppError as error:
        _fail(error)
    out.print(f"account {account_id} works: {who}")


@account_app.command("remove")
def account_remove(account_id: int) -> None:
    """Remove an account and its stored credentials."""
    settings = Settings()

    async def main() -> None:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            account = await account_service.get_account(session, account_id)
            await account_service.remove_account(session, account, actor="cli")

    try:
        asyncio.run(main())
    except AppError as error:
        _fail(error)
    out.print(f"account {account_id} removed")


def publish(
    platform: Annotated[str, typer.Option(help=f"One of: {', '.join(sorted(PLATFORMS))}.")],
    credentials: Annotated[Path, typer.Option(help="JSON file with the platform's credentials.")],
    text: Annotated[str, typer.Option(help="The post's text.")],
    base_url: Annotated[str | None, typer.Option(help="Replace the platform's API host.")] = None,
    link: Annotated[str | None, typer.Option(help="A link to attach.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Publish one post straight through a platform client (checks credentials; for scripts)."""
    creds = _load_credentials(credentials)
    settings = Settings()

    async def main() -> dict[str, str]:
        # An operator running this names the host themselves, so private hosts (a local fake,
        # an intranet instance) are allowed here on top of the configured allow-list.
        allow = [*settings.http.allow_private, "127.0.0.0/8", "::1", "localhost"]
        async with build_guarded_client(
            allow=allow, timeout=settings.http.timeout, user_agent=settings.http.user_agent
        ) as http:
            client = build_client(platform, creds, http, base_url=base_url)
            key = f"cli-{uuid.uuid4().hex}"
            posted = await client.create_post(
                PostRequest(text=text, idempotency_key=key, link=link)
            )
            return {
                "platform": platform,
                "external_id": posted.external_id,
                "url": posted.url,
                "published_at": posted.published_at.isoformat(),
            }

    try:
        result = asyncio.run(main())
    except AppError as error:
        if as_json:
            sys.stdout.write(json.dumps({"error": error.to_dict()}) + "\n")
            raise typer.Exit(2) from None
        _fail(error)
    except httpx.HTTPError as error:
        err.print(f"[red]error[/red] {type(error).__name__}: {error}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        out.print(f"published on {platform}: id {result['external_id']} {result['url']}")


def fake_platforms(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 9100,
) -> None:
    """Run local fakes of every platform (X, LinkedIn, Telegram, Mastodon, Bluesky, Discord,
    Slack, webhook) that answer as the real APIs do; GET / lists base URLs and test credentials."""
    out.print(
        f"fake platforms on http://{host}:{port}/ — each under /<platform>; GET / for credentials"
    )
    uvicorn.run(fakes.create_app(), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account")
    app.command()(publish)
    app.command("fake-platforms")(fake_platforms)


@account_app.command("connect")
def account_connect(
    platform: Annotated[str, typer.Option(help="x or linkedin (OAuth 2.0 with PKCE).")],
    brand: Annotated[str, typer.Option(help="Brand slug.")],
) -> None:
    """Connect an X or LinkedIn account: open the printed link, consent, then paste the URL
    the platform sent your browser back to."""
    settings = Settings()

    async def start() -> str:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            found = (
                await session.execute(select(Brand).where(Brand.slug == brand))
            ).scalar_one_or_none()
            if found is None:
                raise typer.BadParameter(f"no brand with slug {brand!r}")
            return await connect.start_connect(
                session,
                settings,
                brand_id=found.id,
                user_id=CLI_USER,
                platform=platform,
                now=utcnow(),
            )

    try:
        url = asyncio.run(start())
    except AppError as error:
        _fail(error)
    out.print(f"Open this link, sign in to {platform} and allow access:\n{url}")
    returned = typer.prompt("Paste the address your browser was sent back to")
    query = parse_qs(urlsplit(returned).query)
    code, state = query.get("code", [""])[0], query.get("state", [""])[0]
    if not code or not state:
        raise typer.BadParameter("that address has no code and state; was access refused?")

    async def finish() -> str:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            account = await connect.finish_connect(
                session,
                services,
                platform=platform,
                code=code,
                state=state,
                user_id=CLI_USER,
                now=utcnow(),
            )
            return f"{account.platform} account {account.handle} (id {account.id})"

    try:
        connected = asyncio.run(finish())
    except AppError as error:
        _fail(error)
    out.print(f"connected {connected}")
