"""Editor-written content: a person writes the text, and it takes the same road as a draft.

The text is checked like any generated post (grounding against the facts the editor attaches,
lexicon, disclosures, platform fit, duplicates), goes to review, and can never be approved by
its author nor by policy. Numbers need facts: an editor who writes "AAPL fell 1.1%" attaches
the fact (same format as `finagency check --facts`), or the grounding check blocks the post.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.checks.factsfile import parse_facts
from finagency.content.service import Drafted, check_post, post_disclosure, text_hash
from finagency.content.variants import make_variant
from finagency.core.errors import NotFound, ValidationFailed
from finagency.core.factsheet import FactSheet
from finagency.integrations.platforms.textrules import UnknownPlatformError, rules_for
from finagency.models import Account, Brand, ContentItem, Post, PostStatus, User

EDITORIAL = "editorial"
GENERATOR = "human"
MAX_TEXT = 20_000
MAX_TITLE = 300


def _matches(account: Account, platforms: Sequence[str]) -> bool:
    # "x" picks the brand's X accounts, whether real ("x") or sandboxed ("sandbox:x").
    return any(
        account.platform == wanted or account.platform.split(":")[-1] == wanted
        for wanted in platforms
    )


async def _target_accounts(
    session: AsyncSession,
    brand: Brand,
    platforms: Sequence[str] | None,
    account_ids: Sequence[int] | None,
) -> list[Account]:
    rows = await session.scalars(
        select(Account)
        .where(Account.brand_id == brand.id, Account.status == "active")
        .order_by(Account.id)
    )
    active = list(rows)
    if account_ids:
        chosen = [account for account in active if account.id in set(account_ids)]
        missing = sorted(set(account_ids) - {account.id for account in chosen})
        if missing:
            raise ValidationFailed(
                f"accounts {missing} are not active accounts of brand {brand.slug}",
                details={"accounts": missing},
            )
        return chosen
    if platforms:
        chosen = [account for account in active if _matches(account, platforms)]
        if not chosen:
            raise ValidationFailed(
                f"brand {brand.slug} has no active account on {', '.join(platforms)}",
                details={"platforms": list(platforms)},
            )
        return chosen
    if not active:
        raise ValidationFailed(f"brand {brand.slug} has no active account to post to")
    return active


def editor_factsheet(
    title: str,
    facts: FactSheet | dict[str, Any] | None,
    tickers: Sequence[str],
    link: str | None,
    now: datetime,
) -> FactSheet:
    """The fact sheet an editor's text is checked against (use it for dry runs too): the
    attached facts and tickers, the link, and no headline."""
    sheet = (
        facts
        if isinstance(facts, FactSheet)
        else parse_facts(facts, kind=EDITORIAL, source_name="facts")
        if facts
        else None
    )
    known = tuple(dict.fromkeys([*(sheet.tickers if sheet else ()), *tickers]))
    # No headline: numbers in a title the editor typed are not facts.
    return FactSheet(
        kind=EDITORIAL,
        subject=title,
        facts=sheet.facts if sheet else (),
        url=link,
        tickers=tuple(ticker.strip().lstrip("$").upper() for ticker in known if ticker.strip()),
        built_at=now,
    )


async def create_editor_item(
    session: AsyncSession,
    brand_id: int,
    author: User,
    title: str,
    text: str,
    platforms: Sequence[str] | None = None,
    *,
    now: datetime,
    account_ids: Sequence[int] | None = None,
    facts: FactSheet | dict[str, Any] | None = None,
    tickers: Sequence[str] = (),
    link: str | None = None,
    scheduled_at: datetime | None = None,
) -> Drafted:
    """One editor-written item with a post per target account, checked and sent to review.

    ``platforms`` picks the brand's active accounts on those platforms ("x", "linkedin"...);
    ``account_ids`` picks accounts exactly; neither means every active account. ``facts`` is
    what the text may state (a fact sheet, or the `--facts` JSON shape); ``scheduled_at`` is
    the wished time, used once the post is approved. Not committed: the caller's transaction.
    """
    title, body = " ".join(title.split()), text.strip()
    if not body:
        raise ValidationFailed("write some text first: a post cannot be empty")
    if len(body) > MAX_TEXT:
        raise ValidationFailed(f"the text is longer than {MAX_TEXT} characters")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(f"the title is longer than {MAX_TITLE} characters")
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise ValidationFailed("scheduled_at needs a time zone (e.g. 2026-12-05T09:00:00Z)")
    for platform in platforms or ():
        try:
            rules_for(platform)
        except UnknownPlatformError as error:
            raise ValidationFailed(
                f"unknown platform {platform!r}", details={"platform": platform}
            ) from error
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"brand {brand_id} does not exist")
    accounts = await _target_accounts(session, brand, platforms, account_ids)
    sheet = editor_factsheet(title or body.split("\n", 1)[0][:80], facts, tickers, link, now)
    disclosure = post_disclosure(brand, sheet)
    item = ContentItem(
        brand_id=brand.id,
        kind=EDITORIAL,
        title=title,
        factsheet=sheet.to_dict(),
        generator=GENERATOR,
        raw_output=body,
        author_id=author.id,
        created_at=now,
    )
    session.add(item)
    await session.flush()
    posts: list[Post] = []
    for account in accounts:
        variant = make_variant(body, platform=account.platform, disclosure=disclosure, link=link)
        post = Post(
            brand_id=brand.id,
            content_item_id=item.id,
            account_id=account.id,
            platform=account.platform,
            text=variant.text,
            parts=list(variant.parts) if len(variant.parts) > 1 else [],
            media=[],
            link=link,
            status=PostStatus.IN_REVIEW,
            scheduled_at=scheduled_at,
            content_hash=text_hash(variant.text),
            author_id=author.id,
            created_at=now,
            updated_at=now,
        )
        session.add(post)
        await session.flush()
        await check_post(session, post, item, brand, now=now)
        posts.append(post)
    await audit.record(
        session,
        actor=f"user:{author.id}",
        action="content.written",
        object_type="content_item",
        object_id=item.id,
        brand_id=brand.id,
        data={
            "kind": EDITORIAL,
            "title": title,
            "posts": [post.id for post in posts],
            "verdicts": [post.check_verdict for post in posts],
            "facts": len(sheet.facts),
            "text_sha256": text_hash(body),
        },
    )
    return Drafted(item, posts)
