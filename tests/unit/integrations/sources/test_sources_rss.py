"""RSS/Atom parsing against the real SEC feeds, plus the broken inputs feeds really send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from finagency.core.errors import PermanentExternalError
from finagency.integrations.sources import MalformedFeedError, parse_feed, strip_html

PRESS = "sec-press-releases-2025-01.rss.xml"


def test_sec_press_releases(real_bytes: Callable[[str], bytes]) -> None:
    entries = parse_feed(real_bytes(PRESS), source="sec-press")
    assert len(entries) == 25
    first = entries[0]
    # Titles in the file are padded with spaces and newlines.
    assert first.title == "Acting Chairman Mark T. Uyeda Names Acting Senior Staff"
    assert first.url == "https://www.sec.gov/newsroom/press-releases/2025-31"
    assert first.guid == "ec1b9af9-5a0f-44b3-83c6-adc75a33096d"
    # "Fri, 24 Jan 2025 11:00:00 -0500" is 16:00 UTC.
    assert first.published_at == datetime(2025, 1, 24, 16, 0, tzinfo=UTC)
    assert first.source == "sec-press"
    assert "&nbsp;" not in first.summary
    assert "\n" not in first.summary
    assert first.summary.startswith("The Securities and Exchange Commission today announced")
    for entry in entries:
        assert entry.title == entry.title.strip()
        assert entry.title
        assert entry.published_at is not None
        assert entry.published_at.tzinfo is UTC
    assert entries[-1].published_at == datetime(2025, 1, 14, 14, 6, 46, tzinfo=UTC)
    assert len({e.guid for e in entries}) == 25


def test_known_tickers_are_tagged(real_bytes: Callable[[str], bytes]) -> None:
    entries = parse_feed(real_bytes(PRESS), source="sec-press", known_tickers={"SEC"})
    assert sum("SEC" in e.tickers for e in entries) >= 5


RSS_TEMPLATE = """<?xml version="1.0" encoding="{enc}"?>
<rss version="2.0"><channel><title>Markets</title><link>https://news.example.com/</link>
<item><title>{title}</title><link>https://news.example.com/a?utm_source=rss</link>
<description>&lt;p&gt;Shares of &lt;b&gt;Acme&lt;/b&gt; (NYSE: ACME) rose&lt;/p&gt;
&lt;script&gt;x()&lt;/script&gt;</description>
<pubDate>Tue, 21 Jan 2025 12:09:48 +0100</pubDate><category>Markets</category></item>
</channel></rss>"""


def test_html_summary_becomes_plain_text_and_guid_falls_back_to_link() -> None:
    body = RSS_TEMPLATE.format(enc="utf-8", title="Acme up").encode()
    [entry] = parse_feed(body, source="news")
    assert entry.summary == "Shares of Acme (NYSE: ACME) rose"
    assert entry.guid == "https://news.example.com/a?utm_source=rss"
    assert entry.tickers == ("ACME",)
    assert entry.categories == ("Markets",)
    assert entry.published_at == datetime(2025, 1, 21, 11, 9, 48, tzinfo=UTC)


def test_declared_latin1_encoding_is_decoded() -> None:
    body = RSS_TEMPLATE.format(enc="ISO-8859-1", title="Société Générale").encode("latin-1")
    [entry] = parse_feed(body, source="news")
    assert entry.title == "Société Générale"


def test_wrongly_declared_encoding_still_yields_entries() -> None:
    # Declared UTF-8 but written in Latin-1: feedparser falls back to windows-1252.
    body = RSS_TEMPLATE.format(enc="utf-8", title="Zürich Börse").encode("latin-1")
    [entry] = parse_feed(body, source="news")
    assert entry.title == "Zürich Börse"
    assert entry.url == "https://news.example.com/a?utm_source=rss"


def test_atom_feed_with_iso_8859_1(real_bytes: Callable[[str], bytes]) -> None:
    entries = parse_feed(
        real_bytes("sec-edgar-browse-getcompany-CIK0001844419.atom.xml"), source="x"
    )
    assert len(entries) == 5
    assert entries[0].categories == ("S-1/A",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>", "HTML page"),
        (b"<html><body>Access denied</body></html>", "HTML page"),
        (b"this is not xml at all", "not a readable feed"),
        (b"<?xml version='1.0'?><rss><channel><title>x</channel>", "not a readable feed"),
        (b'{"items": []}', "not a readable feed"),
    ],
)
def test_malformed_feeds_raise_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(MalformedFeedError, match=message) as caught:
        parse_feed(body, source="broken-feed")
    assert isinstance(caught.value, PermanentExternalError)
    assert caught.value.code == "malformed_feed"
    assert "broken-feed" in caught.value.message


def test_valid_feed_without_items_is_empty_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parse_feed(body, source="quiet") == []


def test_recoverable_errors_keep_the_entries() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Fed holds rates</title><link>https://fed.example/a</link></item>"
        b"<item><title>Broken & unescaped</title><link>https://fed.example/b</link></item>"
        b"</channel></rss>"
    )
    entries = parse_feed(body, source="fed")
    assert [e.title for e in entries][:1] == ["Fed holds rates"]


def test_strip_html() -> None:
    assert strip_html("<p>Fed&nbsp;holds<br/>rates</p><style>p{}</style>") == "Fed holds rates"


def test_a_feed_cut_off_mid_item_is_reported_not_taken_as_empty() -> None:
    with pytest.raises(MalformedFeedError, match="not a readable feed"):
        parse_feed(
            b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>cut", source="cut"
        )
