"""Sandbox client: behaves like a platform (length rules, idempotency, read-back, engagement).

It has no database access of its own: the caller injects a ``SandboxStore`` (the publishing
domain backs it with the ``sandbox_post`` table, written in its own transaction as an outside
platform would). The demo publishes here, so every path of the publish protocol runs for real.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from typing import Protocol

from finagency.core.errors import PermanentExternalError, TransientExternalError
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import AccountIdentity, PostRequest, RateLimitInfo
from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost


class SandboxStore(Protocol):
    async def insert(self, *, text: str, idempotency_key: str) -> tuple[int, datetime]:
        """Store a post; if the key was used before, return the existing row instead."""
        ...

    async def find(self, idempotency_key: str) -> tuple[int, str, datetime] | None: ...

    async def created_at(self, external_id: int) -> datetime | None: ...


class SandboxClient:
    def __init__(
        self,
        store: SandboxStore,
        *,
        stands_in_for: str = "x",
        handle: str = "demo",
        base_url: str = "/sandbox",
        failure_rate: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.rules = rules_for(stands_in_for)
        self.stands_in_for = stands_in_for
        self.handle = handle
        self.base_url = base_url.rstrip("/")
        self.failure_rate = failure_rate
        # Simulated outages only; not security-sensitive.
        self._rng = rng or random.Random()

    def _url(self, external_id: int) -> str:
        return f"{self.base_url}/{self.handle}/{external_id}"

    name = "sandbox"
    supports_read_back = True
    supports_idempotency_key = True
    last_rate_limit: RateLimitInfo | None = None

    async def create_post(self, request: PostRequest) -> PublishedPost:
        text = "\n\n".join(request.thread)
        idempotency_key = request.idempotency_key
        if not text.strip():
            raise PermanentExternalError("the sandbox refuses an empty post")
        if not self.rules.fits(text) and not self.rules.supports_threads:
            raise PermanentExternalError(
                f"text is {self.rules.count(text)} characters as {self.stands_in_for} counts them;"
                f" the limit is {self.rules.max_length}"
            )
        if self.failure_rate and self._rng.random() < self.failure_rate:
            raise TransientExternalError("sandbox: simulated 503 Service Unavailable")
        external_id, created_at = await self.store.insert(
            text=text, idempotency_key=idempotency_key
        )
        return PublishedPost(str(external_id), self._url(external_id), created_at)

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        return []  # the sandbox answers find_post by key, which is all reconciliation needs

    async def verify(self) -> AccountIdentity:
        return AccountIdentity(
            id=self.handle, handle=self.handle, display_name=f"sandbox ({self.stands_in_for})"
        )

    async def find_post(self, idempotency_key: str, text: str = "") -> RemotePost | None:
        """Read back: the sandbox can always say whether a keyed post exists."""
        found = await self.store.find(idempotency_key)
        if found is None:
            return None
        external_id, text, created_at = found
        return RemotePost(
            str(external_id), self._url(external_id), text, idempotency_key, created_at
        )

    async def engagement(self, external_id: str) -> Engagement:
        found = await self.store.created_at(int(external_id)) if external_id.isdigit() else None
        if found is None:
            return Engagement()
        return simulated_engagement(external_id, found, utcnow())


def simulated_engagement(external_id: str, published_at: datetime, now: datetime) -> Engagement:
    """Deterministic engagement that grows with a sandbox post's age, then levels off."""
    age_minutes = max((now - published_at).total_seconds() / 60, 0)
    seed = int(hashlib.sha256(external_id.encode()).hexdigest()[:8], 16)
    appeal = 0.5 + (seed % 1000) / 1000  # 0.5 .. 1.5
    growth = min(age_minutes / 60, 1.0) ** 0.5
    impressions = int(1500 * appeal * growth)
    return Engagement(
        likes=int(impressions * 0.03),
        reposts=int(impressions * 0.006),
        replies=int(impressions * 0.004),
        impressions=impressions,
        clicks=int(impressions * 0.012),
    )
