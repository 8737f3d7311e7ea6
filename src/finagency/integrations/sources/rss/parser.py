"""Parse RSS 2.0 and Atom feeds (any encoding) into ``NewsEntry`` values with feedparser."""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from finagency.core.text import content_hash
from finagency.integrations.sources.errors import MalformedFeedError
from finagency.integrations.sources.tickers import extract_tickers
from finagency.integrations.sources.types import NewsEntry

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_BLOCK_TAGS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(markup: str) -> str:
    """Plain text of an HTML snippet, entities decoded, whitespace folded to single spaces."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def _utc(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    if parsed is None:
        return None
    return datetime(*parsed[:6], tzinfo=UTC)


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


def _categories(entry: Mapping[str, Any]) -> tuple[str, ...]:
    terms: list[str] = []
    for tag in entry.get("tags") or ():
        term = tag.get("term") if isinstance(tag, Mapping) else None
        if isinstance(term, str) and term.strip():
            terms.append(term.strip())
    return tuple(dict.fromkeys(terms))


def _entry(raw: Mapping[str, Any], source: str, known: Collection[str]) -> NewsEntry | None:
    title = strip_html(_text(raw, "title"))
    link = _text(raw, "link")
    if not title and not link:
        return None
    summary = strip_html(_text(raw, "summary"))
    guid = _text(raw, "id") or link or f"sha256:{content_hash(title)}"
    return NewsEntry(
        guid=guid,
        url=link,
        title=title,
        summary=summary,
        published_at=_utc(raw.get("published_parsed") or raw.get("updated_parsed")),
        source=source,
        tickers=extract_tickers(f"{title}\n{summary}", known),
        categories=_categories(raw),
    )


def parse_feed(body: bytes, *, source: str, known_tickers: Collection[str] = ()) -> list[NewsEntry]:
    """Entries of an RSS or Atom feed, in feed order.

    Raises ``MalformedFeedError`` for an empty body, an HTML page, or XML so broken that no
    entries survive; a feed with recoverable errors still yields its entries.
    """
    if not body.strip():
        raise MalformedFeedError(f"feed {source!r}: empty body")
    if _HTML_START.match(body):
        raise MalformedFeedError(f"feed {source!r}: got an HTML page, not an RSS/Atom feed")
    parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=True)
    raw_entries = parsed.get("entries") or []
    entries = [
        entry
        for entry in (_entry(raw, source, known_tickers) for raw in raw_entries)
        if entry is not None
    ]
    # Judged after dropping unusable entries: a feed cut off mid-item parses as one empty
    # entry, and must be reported as broken rather than as a healthy empty feed.
    if not entries:
        if parsed.get("bozo"):
            reason = parsed.get("bozo_exception")
            raise MalformedFeedError(f"feed {source!r}: not a readable feed ({reason})")
        if not parsed.get("version"):
            raise MalformedFeedError(f"feed {source!r}: not an RSS or Atom document")
    return entries
