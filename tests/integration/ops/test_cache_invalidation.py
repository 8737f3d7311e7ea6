"""Cached stats never hide a change made in the same process, event or not."""

from __future__ import annotations

from ops_support import opened_app, seed_review

from finagency.analytics.router import stats_data
from finagency.core.events import Event


async def test_a_commit_that_changed_rows_drops_this_processs_stats(database_url: str) -> None:
    async with opened_app(database_url) as opened:
        services = opened.services
        async with services.read_sessionmaker() as session:
            before = await stats_data(session, None, services.cache)
        await seed_review(services, "Ten-year yield at 4.2% on 1 Feb 2022.")  # no event
        async with services.read_sessionmaker() as session:
            after = await stats_data(session, None, services.cache)
    assert before["in_review"] == 0
    assert after["in_review"] == 1


async def test_an_event_from_elsewhere_drops_the_stats(database_url: str) -> None:
    async with opened_app(database_url) as opened:
        services = opened.services
        async with services.read_sessionmaker() as session:
            first = await stats_data(session, None, services.cache)
            again = await stats_data(session, None, services.cache)
        services.events.publish(Event("post.published", {"post_id": 1}, brand_id=1))
        async with services.read_sessionmaker() as session:
            fresh = await stats_data(session, None, services.cache)
    assert again["as_of"] == first["as_of"]  # served from the cache
    assert fresh["as_of"] != first["as_of"]  # recomputed after the event
