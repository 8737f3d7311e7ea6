"""Editor-written posts, the client-approval step and the auto-approval policy, on a real database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.audit import service as audit
from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.content import service as content
from finagency.content.editorial import create_editor_item
from finagency.content.factsheets import market_wrap, weekly_recap
from finagency.core.db import transaction
from finagency.core.errors import Forbidden, InvalidTransition, ValidationFailed
from finagency.core.factsheet import Fact, FactSheet
from finagency.core.time import utcnow
from finagency.integrations.llm import GenerationRequest, TemplateGenerator
from finagency.models import (
    Account,
    Approval,
    AuditEvent,
    Brand,
    Finding,
    Instrument,
    Post,
    PostStatus,
    Quote,
    User,
)
from finagency.review import service as review

Sessions = async_sessionmaker[AsyncSession]
RISK = "Not investment advice."
TEXT = "Apple shares fell 1.10% to $97.34 on 29 Jan 2016."
INVENTED = "Our desk thinks Microsoft rallied 7% this morning while bonds sold off."


def facts_json(now: datetime) -> dict[str, object]:
    stamp = (now - timedelta(hours=2)).isoformat()
    return {
        "facts": [
            {"name": "AAPL.close", "value": 97.34, "unit": "USD", "as_of": stamp, "source": "x"},
            {"name": "AAPL.change", "value": -1.1021, "unit": "%", "as_of": stamp, "source": "x"},
            {"name": "day", "value": "2016-01-29", "unit": "date", "as_of": stamp, "source": "x"},
        ]
    }


@dataclass
class World:
    brand_id: int
    editor: User
    approver: User
    client: User


async def _world(sessionmaker: Sessions, *, client_approval: bool = False) -> World:
    async with transaction(sessionmaker) as session:
        brand = await brands.create_brand(session, slug="acme", name="Acme", disclosure=RISK)
        brand.settings = {"staleness_days": 4000, "spacing_seconds": 0, "lead_seconds": 0}
        for platform in ("sandbox:x", "sandbox:linkedin"):
            await brands.add_account(session, brand, platform=platform, handle=platform)
        users = []
        for role in ("editor", "approver", "client"):
            user = await auth.create_user(session, f"{role}@acme.test", "a long password 123")
            await auth.grant_role(session, user.id, brand.id, role)
            users.append(user)
        if client_approval:
            await review.set_client_approval(session, brand, True, actor="user:admin")
        return World(brand.id, *users)


async def _actions(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def test_editor_written_text_is_checked_and_waits_for_another_person(
    sessionmaker: Sessions,
) -> None:
    world = await _world(sessionmaker)
    now = utcnow()
    async with transaction(sessionmaker) as session:
        ungrounded = await create_editor_item(
            session, world.brand_id, world.editor, "Apple", INVENTED, ["x"], now=now
        )
        grounded = await create_editor_item(
            session,
            world.brand_id,
            world.editor,
            "Apple, with facts",
            TEXT,
            None,
            now=now,
            facts=facts_json(now),
        )
    async with sessionmaker() as session:
        blocked = await session.get(Post, ungrounded.posts[0].id)
        reasons = set(
            await session.scalars(select(Finding.reason_code).where(Finding.post_id == blocked.id))
        )
        assert blocked is not None
        assert ungrounded.item.kind == "editorial" and ungrounded.item.generator == "human"
        # "x" picks the sandboxed X account only; the disclosure goes under the editor's text.
        assert [post.platform for post in ungrounded.posts] == ["sandbox:x"]
        assert blocked.text.endswith(RISK) and blocked.text.startswith(INVENTED)
        assert (blocked.status, blocked.check_verdict) == ("in_review", "block")
        assert "ungrounded_number" in reasons
        assert [post.check_verdict for post in grounded.posts] == ["pass", "pass"]
        assert {post.status for post in grounded.posts} == {"in_review"}  # never by policy
        assert "content.written" in await _actions(session)

    async with transaction(sessionmaker) as session:
        post = await session.get(Post, grounded.posts[0].id)
        assert post is not None
        with pytest.raises(Forbidden):
            await review.approve(session, post, approver=world.editor, now=utcnow())
    async with transaction(sessionmaker) as session:
        post = await session.get(Post, grounded.posts[0].id)
        assert post is not None
        await review.approve(session, post, approver=world.approver, now=utcnow())
        assert post.status == PostStatus.SCHEDULED


async def test_bad_editor_input_is_refused_and_nothing_is_stored(sessionmaker: Sessions) -> None:
    world = await _world(sessionmaker)
    for args, message in (
        (("T", "   ", None), "empty"),
        (("T", TEXT, ["myspace"]), "unknown platform"),
        (("T", TEXT, ["mastodon"]), "no active account"),
    ):
        async with sessionmaker() as session:
            with pytest.raises(ValidationFailed, match=message):
                await create_editor_item(session, world.brand_id, world.editor, *args, now=utcnow())
    async with sessionmaker() as session:
        assert (await session.scalars(select(Post))).first() is None


async def test_client_approval_comes_after_the_approver_and_is_audited(
    sessionmaker: Sessions,
) -> None:
    world = await _world(sessionmaker, client_approval=True)
    now = utcnow()
    async with transaction(sessionmaker) as session:
        drafted = await create_editor_item(
            session, world.brand_id, world.editor, "T", TEXT, None, now=now, facts=facts_json(now)
        )
        first, second = drafted.posts
        await review.approve(session, first, approver=world.approver, now=now)
        await review.approve(session, second, approver=world.approver, now=now)
        # The approver's yes is not enough: nothing is scheduled until the client signs off.
        assert (first.status, first.scheduled_at) == (PostStatus.AWAITING_CLIENT, None)

    async with transaction(sessionmaker) as session:
        first = await session.get(Post, drafted.posts[0].id)
        assert first is not None
        await review.client_approve(
            session, first, client=world.client, now=utcnow(), version_hash=first.content_hash
        )
        assert first.status == PostStatus.SCHEDULED
        stages = (
            await session.scalars(
                select(Approval.stage).where(Approval.post_id == first.id).order_by(Approval.id)
            )
        ).all()
        assert list(stages) == ["approver", "client"]

    async with transaction(sessionmaker) as session:
        second = await session.get(Post, drafted.posts[1].id)
        assert second is not None
        # An edit while the client looks sends it back to the approver first.
        await content.edit_post(
            session, second, f"{TEXT} Updated.\n\n{RISK}", editor=world.editor, now=utcnow()
        )
        assert second.status == PostStatus.IN_REVIEW
        with pytest.raises(InvalidTransition):
            await review.client_approve(session, second, client=world.client, now=utcnow())
        await review.approve(session, second, approver=world.approver, now=utcnow())
        with pytest.raises(ValidationFailed):
            await review.client_reject(
                session, second, client=world.client, reason=" ", now=utcnow()
            )
        await review.client_reject(
            session, second, client=world.client, reason="Not our tone", now=utcnow()
        )
        assert second.status == PostStatus.REJECTED

    async with sessionmaker() as session:
        actions = await _actions(session)
        assert (await audit.verify_chain(session)).ok
        approved = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "post.approved").limit(1)
        )
    assert approved is not None and approved.data["awaiting_client"] is True
    assert "brand.client_approval_changed" in actions
    assert {"post.client_approved", "post.client_rejected"} <= set(actions)


def _rates_sheet(now: datetime) -> FactSheet:
    stamp = now - timedelta(hours=3)
    return FactSheet(
        kind="macro_rate",
        subject="EUR reference rates",
        facts=(Fact("EUR/USD", "rate", 1.0856, unit="USD", as_of=stamp, source="ECB"),),
        built_at=now,
    )


async def test_auto_approval_is_explicit_per_kind_and_audited(sessionmaker: Sessions) -> None:
    world = await _world(sessionmaker)
    async with transaction(sessionmaker) as session:
        brand = await session.get(Brand, world.brand_id)
        assert brand is not None
        for kind in ("news_take", "editorial"):
            with pytest.raises(ValidationFailed, match="always need a person"):
                await review.set_auto_approve_policy(session, brand, [kind], actor="user:admin")
        await review.set_auto_approve_policy(session, brand, ["macro_rate"], actor="user:admin")

    now = utcnow()
    async with transaction(sessionmaker) as session:
        brand = await session.get(Brand, world.brand_id)
        assert brand is not None
        accounts = list(await session.scalars(select(Account).order_by(Account.id)))
        drafted = await content.draft_item(
            session,
            brand,
            _rates_sheet(now),
            accounts=accounts,
            generator=TemplateGenerator(),
            now=now,
            dedupe_key="fx:1",
        )
        assert drafted is not None
        assert {post.status for post in drafted.posts} == {PostStatus.SCHEDULED}
    async with sessionmaker() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action.in_(["post.approved", "brand.auto_approve_changed"])
                )
            )
        )
    changed = [event for event in events if event.action == "brand.auto_approve_changed"]
    fired = [event for event in events if event.action == "post.approved"]
    assert changed[0].data == {"before": [], "after": ["macro_rate"]}
    assert {event.actor for event in fired} == {"policy:auto_approve:macro_rate"}
    assert len(fired) == len(drafted.posts)


async def test_weekly_recap_and_market_wrap_are_built_from_stored_quotes(
    sessionmaker: Sessions,
) -> None:
    friday = datetime(2020, 11, 6, 21, 0, tzinfo=UTC)
    closes = {  # days before Friday -> close
        "AAPL": {14: 115.0, 7: 108.86, 3: 114.95, 1: 118.0, 0: 118.69},
        "MSFT": {7: 202.47, 1: 223.29, 0: 223.72},
    }
    async with transaction(sessionmaker) as session:
        for symbol, series in closes.items():
            instrument = Instrument(symbol=symbol, name=symbol, kind="equity", currency="USD")
            session.add(instrument)
            await session.flush()
            for days, close in series.items():
                session.add(
                    Quote(
                        instrument_id=instrument.id,
                        as_of=friday - timedelta(days=days),
                        close=close,
                        currency="USD",
                        unit="USD",
                        source="Nasdaq",
                        retrieved_at=friday,
                    )
                )
        rate = Instrument(symbol="UST.10Y", name="10Y", kind="rate")
        session.add(rate)
        await session.flush()
        # Observed a month before: not "this week", so the recap must leave it out.
        session.add(
            Quote(
                instrument_id=rate.id,
                as_of=friday - timedelta(days=30),
                close=0.8,
                unit="%",
                source="Treasury",
                retrieved_at=friday,
            )
        )
    async with sessionmaker() as session:
        recap = await weekly_recap(session, ["AAPL", "MSFT"], now=friday)
        wrap = await market_wrap(session, ["AAPL", "MSFT"], now=friday)
    assert recap is not None and wrap is not None
    assert recap.kind == "weekly_recap" and recap.tickers == ("AAPL", "MSFT")
    week = recap.get("AAPL.week_change_pct")
    assert week is not None and week.value == pytest.approx((118.69 / 108.86 - 1) * 100)
    start, end = recap.get("week.start"), recap.get("week.end")
    assert start is not None and start.value == "2020-10-30"
    assert end is not None and end.value == "2020-11-06"
    assert recap.get("UST.10Y") is None
    change = wrap.get("MSFT.change_pct")
    assert change is not None and change.value == pytest.approx((223.72 / 223.29 - 1) * 100)
    text = TemplateGenerator().render(GenerationRequest(recap, "linkedin", 3)).text
    assert "$AAPL +9.03%" in text
