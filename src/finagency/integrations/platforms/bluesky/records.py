"""Bluesky post records: link facets in UTF-8 byte offsets, record keys from idempotency keys.

Bluesky does not auto-link: a URL is only a link when a ``app.bsky.richtext.facet#link``
covers it, with ``byteStart`` (inclusive) and ``byteEnd`` (exclusive) counted in UTF-8 bytes of
the text, so an emoji or a CJK character before a link shifts it by 4 or 3, not by 1.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

POST_COLLECTION = "app.bsky.feed.post"

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"”’"
# Base32-sortable alphabet of TIDs (atproto "tid" record keys).
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
# Derived keys carry a timestamp inside [2023-01-01, 2025-01-01): always in the past, so no
# server or relay can take them for future-dated records.
_TID_EPOCH_US = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_TID_SPAN_US = 2 * 365 * 24 * 3600 * 1_000_000


def url_spans(text: str) -> list[tuple[int, int, str]]:
    """Each URL in ``text`` as (start, end, url) in character offsets, trailing punctuation off."""
    spans: list[tuple[int, int, str]] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        spans.append((match.start(), match.start() + len(url), url))
    return spans


def link_facets(text: str) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet`` objects making every URL in ``text`` a link."""
    facets: list[dict[str, Any]] = []
    for start, end, url in url_spans(text):
        byte_start = len(text[:start].encode("utf-8"))
        byte_end = byte_start + len(text[start:end].encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": byte_start, "byteEnd": byte_end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


def external_embed(link: str) -> dict[str, Any]:
    """A link card. We fetch no page metadata (the client must, and we make no such calls),
    so the title is the link itself without its scheme and the description is empty."""
    title = link.split("://", 1)[-1]
    return {
        "$type": "app.bsky.embed.external",
        "external": {"uri": link, "title": title, "description": ""},
    }


def encode_tid(micros: int, clock_id: int = 0) -> str:
    """A TID: 53 bits of microseconds since 1970 then 10 bits of clock id, base32-sortable."""
    value = (micros << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def record_key(idempotency_key: str, index: int = 0) -> str:
    """The record key (TID syntax, as ``app.bsky.feed.post`` requires) for a post's part.

    Derived from the idempotency key alone, so a retry names the same record and cannot mint a
    second one, and ``find_post`` can ``getRecord`` it. The timestamp bits are a hash, not the
    creation time (``createdAt`` in the record holds that).
    """
    seed = idempotency_key if index == 0 else f"{idempotency_key}:{index + 1}"
    digest = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:8], "big")
    micros = _TID_EPOCH_US + (digest >> 10) % _TID_SPAN_US
    clock_id = digest & 0x3FF
    return encode_tid(micros, clock_id)


@dataclass(frozen=True, slots=True)
class AtUri:
    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str) -> AtUri:
        """``at://<did>/<collection>/<rkey>``; ``ValueError`` for anything else."""
        if not uri.startswith("at://"):
            raise ValueError(f"not an at:// URI: {uri!r}")
        parts = uri[len("at://") :].split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"not a record URI: {uri!r}")
        return cls(parts[0], parts[1], parts[2])

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def web_url(uri: str, handle: str | None = None) -> str:
    """The bsky.app page of a post."""
    parsed = AtUri.parse(uri)
    return f"https://bsky.app/profile/{handle or parsed.repo}/post/{parsed.rkey}"


def format_time(moment: datetime) -> str:
    """``createdAt`` as the lexicon's datetime: UTC with milliseconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
