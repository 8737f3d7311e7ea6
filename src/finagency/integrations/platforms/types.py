"""What every platform client returns: published posts, read-backs and engagement, in one shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PublishedPost:
    external_id: str
    url: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class RemotePost:
    """A post read back from the platform (for reconciliation after a crash)."""

    external_id: str
    url: str
    text: str
    idempotency_key: str | None
    published_at: datetime


@dataclass(frozen=True, slots=True)
class Engagement:
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    impressions: int = 0
    clicks: int = 0
