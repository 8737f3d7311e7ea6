"""Polling sources on real databases: what gets stored, what is skipped, and source health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from market_fakes import FakeWeb
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.errors import RateLimitedExternalError
from finagency.market import service
from finagency.models import Instrument, NewsItem, Quote, Source

Sessions = async_sessionmaker[AsyncSession]
Real = Callable[[str], bytes]
NOW = datetime(2025, 1, 25, 12, 0, tzinfo=UTC)
SEC_RSS = "sec-press-releases-2025-01.rss.xml"
EDGAR_ATOM = "sec-edgar-browse-getcompany-CIK0001844419.atom.xml"
RSS_URL = "https://feeds.example.com/sec.rss"


async def add_source(sessions: Sessions, kind: str, url: str, name: str = "feed") -> int:
    async with sessions() as session:
        source = await service.create_source(session, name=name, kind=kind, url=url)
        await session.commit()
        return source.id


async def poll(
    sessions: Sessions, source_id: int, http: httpx.AsyncClient, now: datetime = NOW
) -> service.PollResult:
    async with sessions() as session:
        source = await session.get(Source, source_id)
        assert source is not None
        result = await service.poll_source(session, source, http, now=now)
        await session.commit()
        return result


async def count(sessions: Sessions, model: type[NewsItem] | type[Quote]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def health(sessions: Sessions, name: str = "feed") -> service.SourceHealth:
    async with sessions() as session:
        rows = await service.source_health(session, now=NOW)
    return next(row for row in rows if row.name == name)


async def test_the_sec_feed_polled_twice_stores_each_press_release_once(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    web.routes[RSS_URL] = httpx.Response(200, content=real(SEC_RSS))
    source_id = await add_source(sessionmaker, "rss", RSS_URL)

    first = await poll(sessionmaker, source_id, http)
    second = await poll(sessionmaker, source_id, http, NOW + timedelta(minutes=5))

    assert (first.new_items, first.skipped_duplicates, first.error) == (25, 0, None)
    assert (second.new_items, second.skipped_duplicates) == (0, 25)
    assert await count(sessionmaker, NewsItem) == 25
    async with sessionmaker() as session:
        newest = (await service.list_news(session, limit=1))[0]
    assert newest.title == "Acting Chairman Mark T. Uyeda Names Acting Senior Staff"
    assert newest.url == "https://www.sec.gov/newsroom/press-releases/2025-31"
    assert newest.published_at == datetime(2025, 1, 24, 16, 0, tzinfo=UTC)
    state = await health(sessionmaker)
    assert (state.status, state.items_total, state.items_last_24h) == ("ok", 25, 25)


async def test_the_same_story_from_another_feed_is_not_stored_again(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    web.routes[RSS_URL] = httpx.Response(200, content=real(SEC_RSS))
    mirror = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Mirror</title>
    <item><title>SEC CRYPTO 2.0: Acting Chairman Uyeda announces formation of new crypto
    task force!</title><link>https://mirror.example.com/a/1</link><guid>m-1</guid></item>
    <item><title>Elsewhere</title><link>https://WWW.SEC.GOV/newsroom/press-releases/2025-31?utm_source=x</link>
    <guid>m-2</guid></item>
    <item><title>Acting chairman Mark T. Uyeda names acting senior staff</title>
    <link>https://mirror.example.com/a/3</link><guid>m-3</guid></item>
    <item><title>Something else entirely happened at the Commission today</title>
    <link>https://mirror.example.com/a/4</link><guid>m-4</guid></item>
    </channel></rss>"""
    web.routes["https://mirror.example.com/rss"] = httpx.Response(200, content=mirror)
    await poll(sessionmaker, await add_source(sessionmaker, "rss", RSS_URL), http)
    mirror_id = await add_source(sessionmaker, "rss", "https://mirror.example.com/rss", "mirror")

    result = await poll(sessionmaker, mirror_id, http)

    # near-duplicate headline, same canonical URL, same title text: only the new story is kept
    assert (result.new_items, result.skipped_duplicates) == (1, 3)
    async with sessionmaker() as session:
        kept = await session.scalars(select(NewsItem.title).where(NewsItem.source_id == mirror_id))
        assert list(kept) == ["Something else entirely happened at the Commission today"]


async def test_every_edgar_filing_is_kept_although_their_titles_are_the_same(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    url = "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0001844419&output=atom"
    web.routes[url] = httpx.Response(200, content=real(EDGAR_ATOM))
    source_id = await add_source(sessionmaker, "edgar_atom", url)

    first = await poll(sessionmaker, source_id, http)
    again = await poll(sessionmaker, source_id, http)

    assert (first.new_items, again.new_items, again.skipped_duplicates) == (5, 0, 5)
    async with sessionmaker() as session:
        guids = set(await session.scalars(select(NewsItem.guid)))
    assert "urn:tag:sec.gov,2008:accession-number=0001104659-21-057704" in guids


async def test_yahoo_chart_stores_aapl_closes_with_their_basis(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    url = "https://query1.finance.yahoo.com/v8/finance/chart/AAPL?range=3mo&interval=1d"
    web.routes[url] = httpx.Response(
        200, content=real("yahoo-chart-v8-AAPL-2020-08-31-to-2020-11-07.recorded.json")
    )
    source_id = await add_source(sessionmaker, "yahoo_chart", url, "yahoo aapl")

    first = await poll(sessionmaker, source_id, http)
    again = await poll(sessionmaker, source_id, http, NOW + timedelta(hours=1))

    assert (first.new_quotes, again.new_quotes) == (49, 0)
    assert await count(sessionmaker, Quote) == 49
    async with sessionmaker() as session:
        aapl = await service.instrument(session, "AAPL")
        rows = await service.list_quotes(session, "AAPL", limit=100)
        latest = await service.latest_quotes(session, "AAPL")
    assert aapl is not None
    assert (aapl.kind, aapl.currency) == ("equity", "USD")
    by_day = {quote.as_of.date(): quote for _, quote in rows}
    sept_1 = by_day[datetime(2020, 9, 1).date()]
    assert sept_1.close == pytest.approx(134.18, abs=0.005)
    assert sept_1.adj_close == pytest.approx(130.04, abs=0.005)
    assert (sept_1.adjusted, sept_1.for_publication, sept_1.currency) == (True, False, "USD")
    assert sept_1.source == "yahoo aapl"
    assert sept_1.retrieved_at == NOW + timedelta(hours=1)  # refreshed by the second poll
    assert [q.as_of.date().isoformat() for q in latest] == ["2020-11-06", "2020-11-05"]
    assert latest[0].close == pytest.approx(118.69, abs=0.005)


async def test_ecb_and_treasury_rates_are_stored_for_their_reference_dates(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    ecb, ust = "https://ecb.example.com/eurofxref-daily.xml", "https://ust.example.com/curve.xml"
    web.routes[ecb] = httpx.Response(200, content=real("ecb-eurofxref-daily-2016-01-29.xml"))
    web.routes[ust] = httpx.Response(
        200, content=real("treasury-yield-curve-entry-properties-2022-02-01.fragment.xml")
    )
    ecb_result = await poll(sessionmaker, await add_source(sessionmaker, "ecb_daily", ecb), http)
    ust_result = await poll(
        sessionmaker, await add_source(sessionmaker, "treasury_yield", ust, "ust"), http
    )

    assert (ecb_result.new_quotes, ust_result.new_quotes) == (31, 12)
    async with sessionmaker() as session:
        eur_usd = await service.latest_rate(session, "EUR/USD")
        ten_year = await service.latest_rate(session, "UST.10Y")
        pair = await service.instrument(session, "EUR/USD")
        rate = await service.instrument(session, "UST.10Y")
    assert eur_usd is not None
    assert ten_year is not None
    assert (eur_usd.close, eur_usd.as_of) == (1.092, datetime(2016, 1, 29, tzinfo=UTC))
    assert (eur_usd.unit, eur_usd.currency) == ("USD per EUR", "USD")
    assert (ten_year.close, ten_year.unit, ten_year.as_of) == (
        1.81,
        "%",
        datetime(2022, 2, 1, tzinfo=UTC),
    )
    assert pair is not None
    assert (pair.kind, pair.currency) == ("fx", "USD")
    assert rate is not None
    assert rate.kind == "rate"


async def test_a_malformed_feed_marks_the_source_failing_and_keeps_earlier_items(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    web.routes[RSS_URL] = httpx.Response(200, content=real(SEC_RSS))
    source_id = await add_source(sessionmaker, "rss", RSS_URL)
    await poll(sessionmaker, source_id, http)
    web.routes[RSS_URL] = httpx.Response(200, content=b"<rss><channel><title>x</chanel></rss>")

    failed = await poll(sessionmaker, source_id, http, NOW + timedelta(minutes=5))
    state = await health(sessionmaker)

    assert failed.error is not None
    assert "malformed_feed" in failed.error
    assert (state.status, state.consecutive_failures) == ("failing", 1)
    assert state.last_error == failed.error
    assert state.last_success_at == NOW
    assert await count(sessionmaker, NewsItem) == 25

    web.routes[RSS_URL] = httpx.Response(200, content=real(SEC_RSS))
    await poll(sessionmaker, source_id, http, NOW + timedelta(minutes=10))
    recovered = await health(sessionmaker)
    assert (recovered.status, recovered.last_error, recovered.consecutive_failures) == (
        "ok",
        None,
        0,
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(200, content=b"not xml at all"), "not a readable feed"),
        (
            httpx.Response(200, content=b"<!DOCTYPE html><html><body>Sign in</body></html>"),
            "got an HTML page",
        ),
        (httpx.Response(200, content=b""), "empty body"),
        (httpx.Response(500, text="oops"), "answered 500"),
        (httpx.Response(404, text="gone"), "answered 404"),
    ],
    ids=["broken-xml", "html", "empty", "server-error", "not-found"],
)
async def test_a_bad_answer_is_reported_on_the_source_not_raised(
    sessionmaker: Sessions,
    web: FakeWeb,
    http: httpx.AsyncClient,
    answer: httpx.Response,
    expected: str,
) -> None:
    web.routes[RSS_URL] = answer
    source_id = await add_source(sessionmaker, "rss", RSS_URL)

    first = await poll(sessionmaker, source_id, http)
    second = await poll(sessionmaker, source_id, http, NOW + timedelta(minutes=5))

    assert first.error is not None
    assert expected in first.error
    assert second.new_items == 0
    state = await health(sessionmaker)
    assert (state.status, state.consecutive_failures, state.last_success_at) == ("failing", 2, None)
    assert state.last_error is not None
    assert expected in state.last_error


async def test_a_rate_limit_is_recorded_and_raised_so_the_job_can_snooze(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient
) -> None:
    web.routes[RSS_URL] = httpx.Response(429, headers={"Retry-After": "120"})
    source_id = await add_source(sessionmaker, "rss", RSS_URL)

    async with sessionmaker() as session:
        source = await session.get(Source, source_id)
        assert source is not None
        with pytest.raises(RateLimitedExternalError) as raised:
            await service.poll_source(session, source, http, now=NOW)
        await session.commit()

    assert raised.value.reset_at is not None
    assert raised.value.reset_at > datetime.now(UTC) + timedelta(seconds=100)
    state = await health(sessionmaker)
    assert state.status == "failing"
    assert state.last_error is not None
    assert "rate limited" in state.last_error


async def test_not_modified_stores_nothing_and_keeps_the_source_healthy(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient, real: Real
) -> None:
    def conditional(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, content=real(SEC_RSS), headers={"ETag": '"v1"'})

    web.routes[RSS_URL] = conditional
    source_id = await add_source(sessionmaker, "rss", RSS_URL)
    await poll(sessionmaker, source_id, http)

    result = await poll(sessionmaker, source_id, http, NOW + timedelta(minutes=5))

    assert result.not_modified
    assert result.error is None
    assert result.new_items == 0
    assert web.requests[-1].headers["if-none-match"] == '"v1"'
    assert await count(sessionmaker, NewsItem) == 25
    state = await health(sessionmaker)
    assert (state.status, state.last_success_at, state.items_total) == (
        "ok",
        NOW + timedelta(minutes=5),
        25,
    )


async def test_known_symbols_are_linked_and_news_never_creates_instruments(
    sessionmaker: Sessions, web: FakeWeb, http: httpx.AsyncClient
) -> None:
    async with sessionmaker() as session:
        session.add(Instrument(symbol="AAPL", name="Apple Inc.", kind="equity"))
        await session.commit()
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>AAPL rallies while $ZZZQ slides after earnings</title>
    <link>https://news.example.com/1</link></item></channel></rss>"""
    web.routes[RSS_URL] = httpx.Response(200, content=feed)

    await poll(sessionmaker, await add_source(sessionmaker, "rss", RSS_URL), http)

    async with sessionmaker() as session:
        item = (await service.unused_news(session))[0]
        symbols = list(await session.scalars(select(Instrument.symbol)))
    assert item.tickers == ["AAPL", "ZZZQ"]
    assert symbols == ["AAPL"]
