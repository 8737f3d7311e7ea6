"""The shape every platform client shares: requests, results, rate-limit info and the protocol.

Clients wrap an injected ``httpx.AsyncClient`` with a configurable base URL, never touch the
database, and translate every platform answer into these types or into the typed errors of
``finagency.core.errors`` (transient, rate-limited with a reset time, auth expired, rejected).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

Credentials = dict[str, str]
# Called with the new credentials when a client refreshed its tokens, so the caller can
# store them (encrypted) before they are needed again.
CredentialsSaver = Callable[[Credentials], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ImageAttachment:
    data: bytes
    mime_type: str  # "image/png", "image/jpeg"
    alt_text: str = ""


@dataclass(frozen=True, slots=True)
class PostRequest:
    """One post to create. ``parts`` holds a thread's posts in order when the text was split."""

    text: str
    idempotency_key: str
    parts: tuple[str, ...] = ()
    link: str | None = None
    image: ImageAttachment | None = None

    @property
    def thread(self) -> tuple[str, ...]:
        return self.parts or (self.text,)


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What the platform said about its limits, in one shape whatever its headers are called."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    scope: str = ""  # e.g. "POST /2/tweets", "bucket:abc"


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """Who the credentials belong to (verify credentials)."""

    id: str
    handle: str
    display_name: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


class PlatformClient(Protocol):
    name: str
    # Can recent posts be listed, so a post whose fate is unknown can be found again?
    supports_read_back: bool
    # Does a resend with the same key return the original instead of a second post?
    supports_idempotency_key: bool
    last_rate_limit: RateLimitInfo | None

    async def create_post(self, request: PostRequest) -> PublishedPost: ...

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]: ...

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """Read back: the post made with this key (or, failing that, this exact text)."""
        ...

    async def engagement(self, external_id: str) -> Engagement: ...

    async def verify(self) -> AccountIdentity: ...
