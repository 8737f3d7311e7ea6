"""Market rules without I/O: source URLs, when a source is due, health, dedup identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from finagency.core.errors import ValidationFailed
from finagency.integrations.sources import NewsEntry
from finagency.market.ingest import news_keys, parse_body
from finagency.market.service import check_source_url, health_status, is_due
from finagency.models import Source

NOW = datetime(2025, 1, 25, 12, 0, tzinfo=UTC)


def entry(title: str, url: str = "https://example.com/a", guid: str = "g1") -> NewsEntry:
    return NewsEntry(guid=guid, url=url, title=title, summary="", published_at=None, source="s")


def source(**values: object) -> Source:
    defaults: dict[str, object] = {
        "name": "s",
        "kind": "rss",
        "url": "https://example.com/rss",
        "enabled": True,
        "poll_interval_seconds": 300,
        "consecutive_failures": 0,
        "last_polled_at": None,
    }
    return Source(**{**defaults, **values})


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/f", "file:///etc/passwd", "javascript:alert(1)", "https://", "example.com"],
)
def test_only_http_urls_with_a_host_are_accepted(url: str) -> None:
    with pytest.raises(ValidationFailed):
        check_source_url(url)


def test_demo_urls_need_the_callers_explicit_permission() -> None:
    with pytest.raises(ValidationFailed, match="demo"):
        check_source_url("demo:sec-press-releases-2025-01.rss.xml")
    assert check_source_url("  https://Example.com/rss  ") == "https://Example.com/rss"


def test_a_source_is_due_once_its_interval_has_passed() -> None:
    assert is_due(source(), NOW)  # never polled
    assert not is_due(source(last_polled_at=NOW - timedelta(seconds=299)), NOW)
    assert is_due(source(last_polled_at=NOW - timedelta(seconds=300)), NOW)
    assert not is_due(source(enabled=False), NOW)


def test_health_reads_never_ok_or_failing() -> None:
    assert health_status(source()) == "never"
    assert health_status(source(last_polled_at=NOW)) == "ok"
    assert health_status(source(last_polled_at=NOW, consecutive_failures=2)) == "failing"


def test_tracking_parameters_and_case_do_not_make_a_new_story() -> None:
    first = news_keys(entry("Fed holds rates", "https://News.example.com/a?id=1"), "rss")
    tracked = news_keys(
        entry("FED  holds rates", "https://news.example.com/a?utm_source=x&id=1#top"), "rss"
    )
    assert (first.url_hash, first.content_hash) == (tracked.url_hash, tracked.content_hash)


def test_filings_with_the_same_title_are_different_events() -> None:
    title = "S-1/A [Amend]  - General form for registration of securities"
    one = news_keys(entry(title, "https://sec.example/1", "acc-1"), "edgar_atom")
    two = news_keys(entry(title, "https://sec.example/2", "acc-2"), "edgar_atom")
    assert one.content_hash != two.content_hash
    assert not one.near_duplicate_test
    assert news_keys(entry(title), "rss").near_duplicate_test


def test_short_headlines_skip_the_near_duplicate_test() -> None:
    assert not news_keys(entry("Markets rally"), "rss").near_duplicate_test


def test_an_item_without_a_link_is_keyed_by_its_guid() -> None:
    assert (
        news_keys(entry("A", url="", guid="x"), "rss").url_hash
        != news_keys(entry("A", url="", guid="y"), "rss").url_hash
    )


def test_an_unknown_kind_has_no_parser() -> None:
    with pytest.raises(ValueError, match="no parser"):
        parse_body("fax", b"", source_name="s", known=())
