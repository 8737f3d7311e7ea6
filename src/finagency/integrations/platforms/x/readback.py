"""Reading X's answers: rate-limit headers, and recognising our own post among recent ones.

X has no idempotency key, so a post whose fate is unknown is found again by its text. X gives
text back with links rewritten to ``t.co`` and ``& < >`` HTML-escaped, so both sides are
compared without their URLs, unescaped, NFC-normalised and with whitespace collapsed. A thread is
recognised by its first part ("… (1/n)"), which is a prefix of the whole text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping

from finagency.integrations.platforms.base import RateLimitInfo
from finagency.integrations.platforms.http import epoch

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_THREAD_HEAD = re.compile(r"\s*\(1/(\d+)\)\s*$")


def normalize_text(text: str) -> str:
    """The comparable form of a post's text."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


def same_post(remote_text: str, text: str) -> bool:
    """Is ``remote_text`` (read back from X) the post, or the first part of the thread, of ``text``?"""
    wanted = normalize_text(text)
    if not wanted:
        return False
    if normalize_text(remote_text) == wanted:
        return True
    head = _THREAD_HEAD.search(remote_text)
    if head is None or int(head.group(1)) < 2:
        return False
    prefix = normalize_text(remote_text[: head.start()])
    return bool(prefix) and wanted.startswith(prefix)


def rate_limit_from(headers: Mapping[str, str], scope: str) -> RateLimitInfo | None:
    """The tightest of the 15-minute and 24-hour (user and app) windows X reported, if any."""
    windows: list[RateLimitInfo] = []
    for prefix, suffix in (
        ("x-rate-limit", ""),
        ("x-user-limit-24hour", " (user 24h)"),
        ("x-app-limit-24hour", " (app 24h)"),
    ):
        remaining = _int(headers.get(f"{prefix}-remaining"))
        if remaining is None:
            continue
        windows.append(
            RateLimitInfo(
                limit=_int(headers.get(f"{prefix}-limit")),
                remaining=remaining,
                reset_at=epoch(headers.get(f"{prefix}-reset")),
                scope=scope + suffix,
            )
        )
    if not windows:
        return None
    # An exhausted 24-hour window outlasts the 15-minute one: prefer the later reset on a tie.
    return min(
        windows,
        key=lambda w: (w.remaining, -(w.reset_at.timestamp() if w.reset_at else 0.0)),
    )


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
