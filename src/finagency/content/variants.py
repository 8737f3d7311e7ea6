"""Per-platform variants of a draft: link and disclosure placed, threads split, length measured.

Layout: the body, the link on its own line, a blank line, then the disclosure verbatim
(surrounding whitespace is not part of it). On X, Bluesky and Mastodon a text that is too
long becomes a numbered thread and the disclosure sits whole in the last part.

Telegram variants are plain text: the client sends them without ``parse_mode`` so nothing
needs escaping, the disclosure stays byte-for-byte what compliance approved, and Telegram
still links URLs and cashtags itself. ``escape_markdown_v2`` is there for a client that
wants to send MarkdownV2 instead. LinkedIn "little" and Slack ``&<>`` escaping are the
clients' job too; lengths here are counted before escaping, as the platforms say to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finagency.integrations.platforms.textrules import TextRules, rules_for

_MARKDOWN_V2_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")
_THREAD_SUFFIX_ROOM = 8  # " (1/2)" plus slack for double-digit threads


@dataclass(frozen=True, slots=True)
class Variant:
    """One platform's version of a post."""

    platform: str
    text: str  # the whole post: body, link, disclosure
    parts: list[str]  # what gets posted: several on a thread, else one
    length: int  # ``text`` as the platform counts it
    fits: bool  # every part fits and the disclosure is whole in the last part
    part_lengths: tuple[int, ...] = ()


def assemble(body: str, *, disclosure: str = "", link: str | None = None) -> str:
    """Body, link on its own line (unless already in the body), blank line, disclosure."""
    body = _with_link(body.strip(), link)
    disclosure = disclosure.strip()
    return f"{body}\n\n{disclosure}" if body and disclosure else body or disclosure


def _with_link(body: str, link: str | None) -> str:
    if not link or link in body:
        return body
    return f"{body}\n{link}" if body else link


def make_variant(
    text: str, *, platform: str, disclosure: str = "", link: str | None = None
) -> Variant:
    rules = rules_for(platform)
    body = _with_link(text.strip(), link)
    tail = disclosure.strip()
    full = assemble(text, disclosure=disclosure, link=link)
    try:
        parts = rules.split_thread(body, tail=tail)
    except ValueError:  # the disclosure alone is longer than one post
        parts = [full]
    fits = bool(full) and all(rules.fits(part) for part in parts) and tail in parts[-1]
    return Variant(
        platform=platform,
        text=full,
        parts=parts,
        length=rules.count(full),
        fits=fits,
        part_lengths=tuple(rules.count(part) for part in parts),
    )


def body_budget(rules: TextRules, *, disclosure: str = "", link: str | None = None) -> int:
    """How long a generated body may be (as the platform counts) so one post holds it all.

    When the disclosure leaves little room on a platform with threads, the body gets a
    whole post and the disclosure moves to the next part.
    """
    probe = "x"
    overhead = rules.count(assemble(probe, disclosure=disclosure, link=link)) - rules.count(probe)
    budget = rules.max_length - overhead
    if rules.supports_threads and budget < rules.max_length // 3:
        return rules.max_length - _THREAD_SUFFIX_ROOM
    return max(budget, 1)


def escape_markdown_v2(text: str) -> str:
    """Escape every character Telegram's MarkdownV2 reserves, for sending text literally."""
    return _MARKDOWN_V2_SPECIAL.sub(r"\\\1", text)
