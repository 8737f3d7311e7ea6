"""Mastodon answers read back as plain text: status HTML to text, rate-limit headers, timestamps."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from finagency.integrations.platforms.base import RateLimitInfo

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")
_THREAD_SUFFIX = re.compile(r"\s*\(1/\d+\)$")


def html_to_text(content: str) -> str:
    """The text of a status from its ``content`` HTML.

    Mastodon wraps paragraphs in ``<p>``, lines in ``<br />`` and links in ``<a>`` whose
    ``<span class="invisible">`` pieces still hold the full URL, so dropping tags gives it back.
    """
    text = _PARAGRAPH.sub("\n\n", content)
    text = _BREAK.sub("\n", text)
    return html.unescape(_TAG.sub("", text)).strip()


def normalize(text: str) -> str:
    """Whitespace-insensitive form for matching a read-back status to the text we sent."""
    lines = (_SPACE.sub(" ", line).strip() for line in text.strip().splitlines())
    return "\n".join(line for line in lines if line)


def matches(remote_text: str, sent_text: str) -> bool:
    """Is ``remote_text`` the status we sent as ``sent_text`` (or the first part of its thread)?"""
    remote, sent = normalize(remote_text), normalize(sent_text)
    if remote == sent:
        return True
    head = _THREAD_SUFFIX.sub("", remote)
    return head != remote and bool(head) and sent.startswith(head)


def parse_time(value: object) -> datetime | None:
    """Mastodon's ISO-8601 timestamps (``2026-05-01T12:00:00.000Z``) as aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def rate_limit(headers: Mapping[str, str], scope: str) -> RateLimitInfo | None:
    """``X-RateLimit-Limit/Remaining/Reset``; Reset is an ISO-8601 time, not epoch seconds."""
    limit = _int(headers.get("x-ratelimit-limit"))
    remaining = _int(headers.get("x-ratelimit-remaining"))
    reset_at = parse_time(headers.get("x-ratelimit-reset"))
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at, scope=scope)
