"""The demo: a brand with sandbox accounts, three users, the sample data, and drafts on their way."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import structlog
from sqlalchemy import func, select

from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.integrations.platforms.fakes.server import TEST_CREDENTIALS, base_url_for
from finagency.market import service as market
from finagency.models import Brand
from finagency.publishing.accounts import connect_account
from finagency.queue import enqueue

log = structlog.get_logger(__name__)

DEMO_BRAND = "northwind"
DISCLOSURE = "Not investment advice. Capital at risk."


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    password: str
    role: str
    is_admin: bool = False


# Fixed so the README can document them; the demo runs on 127.0.0.1 with sample data only.
DEMO_USERS = (
    DemoUser("admin@demo.finagency.dev", "demo-admin-pass", "admin", is_admin=True),
    DemoUser("editor@demo.finagency.dev", "demo-editor-pass", "editor"),
    DemoUser("approver@demo.finagency.dev", "demo-approver-pass", "approver"),
)
DEMO_ACCOUNTS = (
    ("sandbox:x", "northwind_markets", "Northwind on X"),
    ("sandbox:linkedin", "northwind-capital", "Northwind on LinkedIn"),
    ("sandbox:telegram", "northwind_daily", "Northwind on Telegram"),
)


# With FINAGENCY_DEMO_PLATFORMS=fake the demo publishes to local fakes of these platforms.
FAKE_ACCOUNTS = (
    ("x", "finagency_fake", "Northwind on X (fake)"),
    ("linkedin", "northwind-capital", "Northwind on LinkedIn (fake)"),
    ("mastodon", "finagency", "Northwind on Mastodon (fake)"),
    ("bluesky", "finagency.test", "Northwind on Bluesky (fake)"),
    ("telegram", "finagency_news", "Northwind on Telegram (fake)"),
)
FAKES_PREFIX = "/fakes"


async def is_empty(services: Services) -> bool:
    async with services.read_sessionmaker() as session:
        return not await session.scalar(select(func.count()).select_from(Brand))


async def seed(services: Services) -> list[DemoUser]:
    """Create the demo brand, accounts, users and sources, ingest the sample data, and queue
    the first drafting run. Callers check ``is_empty`` first; this is not meant to run twice."""
    now = utcnow()
    async with transaction(services.sessionmaker) as session:
        brand = await brands.create_brand(
            session,
            slug=DEMO_BRAND,
            name="Northwind Capital",
            disclosure=DISCLOSURE,
            link_allowlist=["sec.gov", "www.sec.gov", "ecb.europa.eu", "treasury.gov"],
            # Clean, purely factual kinds go out without a person; news takes wait for one.
            auto_approve_kinds=["market_mover", "macro_rate"],
        )
        brand.settings = {
            # The sample data is historical (2016-2022): accept its age in the demo only.
            "staleness_days": 4000,
            # Demo pacing: a post every 15 s per account, the first 5 s after approval.
            "spacing_seconds": 15,
            "lead_seconds": 5,
            "news_per_run": 4,
        }
        brand.max_lateness_minutes = 60
        if services.settings.demo_platforms == "fake":
            root = services.settings.public_url + FAKES_PREFIX
            for platform, handle, name in FAKE_ACCOUNTS:
                await connect_account(
                    session,
                    services.secret_box,
                    brand,
                    platform=platform,
                    handle=handle,
                    display_name=name,
                    credentials=dict(TEST_CREDENTIALS[platform]),
                    base_url=base_url_for(root, platform),
                    actor="demo",
                )
        else:
            for platform, handle, name in DEMO_ACCOUNTS:
                await brands.add_account(
                    session, brand, platform=platform, handle=handle, display_name=name
                )
        for demo_user in DEMO_USERS:
            user = await auth.create_user(
                session,
                demo_user.email,
                demo_user.password,
                name=demo_user.role.title(),
                is_admin=demo_user.is_admin,
            )
            await auth.grant_role(session, user.id, brand.id, demo_user.role)
        sources = await market.ensure_demo_sources(session)
    for source in sources:
        async with transaction(services.sessionmaker) as session:
            await market.poll_source(session, source, services.http, now=now)
    async with transaction(services.sessionmaker) as session:
        await enqueue(
            session,
            "content.generate_for_brands",
            {},
            queue="content",
            unique_key="demo:first-drafts",
        )
        # Two weeks of sample metric history, so the first report has a before and after.
        await enqueue(session, "reports.seed_demo_history", {}, unique_key="demo:metric-history")
    log.info("demo.seeded", brand=DEMO_BRAND, sources=len(sources))
    return list(DEMO_USERS)


def announce_users(users: list[DemoUser]) -> None:
    lines = ["", "finagency demo users (sample data, local use only):"]
    lines += [f"  {user.role:<9} {user.email:<30} password: {user.password}" for user in users]
    print("\n".join(lines) + "\n", file=sys.stderr, flush=True)


async def seed_if_empty(services: Services, *, announce: bool = False) -> bool:
    if not await is_empty(services):
        return False
    users = await seed(services)
    if announce:
        announce_users(users)
    return True
