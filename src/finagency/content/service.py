"""Content: draft items from fact sheets, check every variant, route it to review (the domain's entry)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.checks.licensing import required_attributions
from finagency.checks.service import CheckContext, run_checks, verdict
from finagency.checks.service import Finding as CheckFinding
from finagency.content import factsheets
from finagency.content.generation import draft_variants
from finagency.core.errors import InvalidTransition, ValidationFailed
from finagency.core.factsheet import FactSheet
from finagency.core.simhash import signature
from finagency.integrations.llm import factkeys
from finagency.integrations.llm.base import Generator
from finagency.market import service as market
from finagency.models import (
    Account,
    Brand,
    ContentItem,
    Finding,
    Instrument,
    Post,
    PostStatus,
    User,
)
from finagency.publishing import service as publishing
from finagency.review import service as review

log = structlog.get_logger(__name__)
EDITABLE = (
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.AWAITING_CLIENT,
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
    PostStatus.REJECTED,
)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed_for(key: str) -> int:
    # 28 bits: fits the INTEGER column on PostgreSQL as well as SQLite.
    return int(hashlib.sha256(key.encode()).hexdigest()[:7], 16)


def check_context(
    brand: Brand, factsheet: FactSheet, platform: str, now: datetime, recent: Sequence[int]
) -> CheckContext:
    staleness_days = brand.settings.get("staleness_days")
    staleness = (
        {name: timedelta(days=int(staleness_days)) for name in ("quote", "macro", "filing")}
        if staleness_days
        else {}
    )
    return CheckContext(
        factsheet=factsheet,
        platform=platform,
        now=now,
        profile=brand.regime,
        required_disclosures=(brand.disclosure,) if brand.disclosure else (),
        firm_name=brand.settings.get("firm_name"),
        link_allowlist=tuple(brand.link_allowlist or ()),
        recent_signatures=tuple(recent),
        staleness=staleness,
        accept_unlicensed=bool(brand.settings.get("accept_unlicensed_sources", False)),
    )


def post_disclosure(brand: Brand, factsheet: FactSheet) -> str:
    """What follows every post's body: the brand's disclosure and any data attribution its
    sources require (CoinGecko: "wherever its data appears")."""
    lines = [brand.disclosure.strip(), *required_attributions(factsheet)]
    return "\n".join(line for line in lines if line)


async def _recent_signatures(session: AsyncSession, post: Post, days: int = 7) -> list[int]:
    rows = await session.execute(
        select(Post.text)
        .where(
            Post.brand_id == post.brand_id,
            Post.account_id == post.account_id,
            Post.content_item_id != post.content_item_id,
            Post.created_at >= post.created_at - timedelta(days=days),
            Post.status.not_in([PostStatus.REJECTED.value, PostStatus.CANCELLED.value]),
        )
        .order_by(Post.id.desc())
        .limit(200)
    )
    return [signature(text) for text in rows.scalars()]


async def check_post(
    session: AsyncSession, post: Post, item: ContentItem, brand: Brand, *, now: datetime
) -> list[CheckFinding]:
    """Run every check on the post's current version and store what they found."""
    factsheet = FactSheet.from_dict(item.factsheet)
    recent = await _recent_signatures(session, post)
    found = run_checks(post.text, check_context(brand, factsheet, post.platform, now, recent))
    for finding in found:
        span = finding.span
        session.add(
            Finding(
                brand_id=post.brand_id,
                post_id=post.id,
                post_version=post.version,
                check_id=finding.check_id,
                severity=finding.severity,
                reason_code=finding.reason_code,
                message=finding.message,
                span_start=span[0] if span else None,
                span_end=span[1] if span else None,
                excerpt=finding.excerpt,
            )
        )
    post.check_verdict = verdict(found)
    await session.flush()
    return found


@dataclass(frozen=True, slots=True)
class Drafted:
    item: ContentItem
    posts: list[Post]


async def draft_item(
    session: AsyncSession,
    brand: Brand,
    factsheet: FactSheet,
    *,
    accounts: Sequence[Account],
    generator: Generator,
    now: datetime,
    dedupe_key: str | None = None,
    author_id: int | None = None,
    news_item_id: int | None = None,
    before_generate: Callable[[], Awaitable[None]] | None = None,
) -> Drafted | None:
    """Generate one item for every account, check each variant, send them to review.

    Returns None when an item with the same ``dedupe_key`` exists already (idempotent).
    ``before_generate`` runs just before the generator is called: a job passes its
    checkpoint, so the work so far is committed and no write lock (SQLite) is held while
    a model thinks for seconds.
    """
    if not accounts:
        return None
    if dedupe_key is not None:
        existing = await session.scalar(
            select(ContentItem.id).where(
                ContentItem.brand_id == brand.id, ContentItem.dedupe_key == dedupe_key
            )
        )
        if existing is not None:
            return None
    seed = seed_for(dedupe_key or f"{factsheet.kind}:{factsheet.subject}:{now.isoformat()}")
    if before_generate is not None:
        await before_generate()
    drafts = await draft_variants(
        generator,
        factsheet,
        [account.platform for account in accounts],
        seed=seed,
        disclosure=post_disclosure(brand, factsheet),
    )
    first = drafts[0][0]
    item = ContentItem(
        brand_id=brand.id,
        kind=factsheet.kind,
        title=factsheet.headline or factsheet.subject,
        factsheet=factsheet.to_dict(),
        generator=generator.name,
        model=first.model,
        prompt_template_id=first.prompt_template_id,
        prompt_hash=first.prompt_hash,
        raw_output="\n\n---\n\n".join(result.raw_output for result, _ in drafts),
        seed=seed,
        input_tokens=sum(result.input_tokens for result, _ in drafts),
        output_tokens=sum(result.output_tokens for result, _ in drafts),
        cost_usd=sum(result.cost_usd for result, _ in drafts),
        author_id=author_id,
        news_item_id=news_item_id,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    session.add(item)
    await session.flush()
    posts: list[Post] = []
    for (_, variant), account in zip(drafts, accounts, strict=True):
        post = Post(
            brand_id=brand.id,
            content_item_id=item.id,
            account_id=account.id,
            platform=account.platform,
            text=variant.text,
            parts=list(variant.parts) if len(variant.parts) > 1 else [],
            media=[],
            link=factsheet.url,
            status=PostStatus.IN_REVIEW,
            content_hash=text_hash(variant.text),
            author_id=author_id,
            created_at=now,
            updated_at=now,
        )
        session.add(post)
        await session.flush()
        await check_post(session, post, item, brand, now=now)
        posts.append(post)
    await audit.record(
        session,
        actor=f"user:{author_id}" if author_id else f"generator:{generator.name}",
        action="content.drafted",
        object_type="content_item",
        object_id=item.id,
        brand_id=brand.id,
        data={
            "kind": item.kind,
            "model": item.model,
            "prompt": item.prompt_template_id,
            "posts": [post.id for post in posts],
            "verdicts": [post.check_verdict for post in posts],
        },
    )
    for post in posts:
        await review.auto_approve_if_allowed(session, post, item, now=now)
    return Drafted(item, posts)


async def edit_post(
    session: AsyncSession, post: Post, text: str, *, editor: User, now: datetime
) -> list[CheckFinding]:
    """A new version: re-checked, back to review, and any approval or schedule withdrawn."""
    if not text.strip():
        raise ValidationFailed("a post cannot be empty")
    if post.status not in EDITABLE:
        raise InvalidTransition(f"post {post.id} is {post.status} and can no longer be edited")
    if post.status == PostStatus.SCHEDULED:
        await publishing.cancel_post(
            session, post, actor=f"user:{editor.id}", reason="edited after approval"
        )
    item = await session.get(ContentItem, post.content_item_id)
    brand = await session.get(Brand, post.brand_id)
    assert item is not None
    assert brand is not None
    old_hash = post.content_hash
    post.text, post.parts = text, []
    post.version += 1
    post.content_hash = text_hash(text)
    post.author_id = editor.id  # the last editor is a maker: they may not approve this version
    post.status = PostStatus.IN_REVIEW
    found = await check_post(session, post, item, brand, now=now)
    await audit.record(
        session,
        actor=f"user:{editor.id}",
        action="post.edited",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={"version": post.version, "from_hash": old_hash, "to_hash": post.content_hash},
    )
    return found


async def generate_for_brand(
    session: AsyncSession,
    brand: Brand,
    generator: Generator,
    *,
    now: datetime,
    before_generate: Callable[[], Awaitable[None]] | None = None,
) -> list[Drafted]:
    """Draft whatever the market area can ground: movers, rates, curve, news and filings."""
    accounts = list(
        (
            await session.execute(
                select(Account)
                .where(Account.brand_id == brand.id, Account.status == "active")
                .order_by(Account.id)
            )
        ).scalars()
    )
    if not accounts:
        return []
    sheets: list[tuple[FactSheet, str, int | None]] = []
    equities = list(
        (
            await session.execute(
                select(Instrument.symbol)
                .where(Instrument.kind == "equity")
                .order_by(Instrument.symbol)
                .limit(5)
            )
        ).scalars()
    )
    wrap = await factsheets.market_wrap(session, equities, now=now)
    if wrap is not None:
        sheets.append((wrap, f"wrap:{wrap.facts[0].as_of:%Y-%m-%d}", None))
    recap = await factsheets.weekly_recap(session, equities, now=now)
    if recap is not None:
        week_end = recap.get(factkeys.WEEK_END_KEY)
        sheets.append((recap, f"recap:{week_end.value if week_end else now.date()}", None))
    # Crypto movers carry their source's attribution (CoinGecko) under the post.
    crypto = await market.symbols_of_kind(session, "crypto", limit=3)
    for symbol in [*equities, *crypto]:
        sheet = await factsheets.market_mover(session, symbol, now=now)
        if sheet is not None:
            sheets.append((sheet, f"mover:{symbol}:{sheet.facts[0].as_of:%Y-%m-%d}", None))
    for builder, name in ((factsheets.fx_rates, "fx"), (factsheets.treasury_curve, "ust")):
        sheet = await builder(session, now=now)
        if sheet is not None:
            sheets.append((sheet, f"rates:{name}:{sheet.facts[0].as_of:%Y-%m-%d}", None))
    for news in await market.unused_news(session, limit=int(brand.settings.get("news_per_run", 3))):
        is_filing = "edgar" in (news.guid or "") or any(
            c and c[0].isdigit() for c in news.categories or ()
        )
        sheet = await (
            factsheets.filing_note(session, news, now=now)
            if is_filing
            else factsheets.news_take(session, news, now=now)
        )
        if sheet is not None:
            sheets.append((sheet, f"news:{news.id}", news.id))
        await market.mark_news_used(session, news.id)
    drafted: list[Drafted] = []
    for sheet, key, news_id in sheets:
        result = await draft_item(
            session,
            brand,
            sheet,
            accounts=accounts,
            generator=generator,
            now=now,
            dedupe_key=key,
            news_item_id=news_id,
            before_generate=before_generate,
        )
        if result is not None:
            drafted.append(result)
    log.info("content.generated", brand=brand.slug, items=len(drafted))
    return drafted
