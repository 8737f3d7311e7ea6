"""The long-lived services a process builds at start-up and hands to requests and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from finagency.config import Settings
from finagency.core.cache import Cache, MemoryCache
from finagency.core.crypto import SecretBox
from finagency.core.events import EventBus


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]  # may write; commit at the edge only
    read_sessionmaker: async_sessionmaker[AsyncSession]  # pages and stats
    http: httpx.AsyncClient  # the guarded client for admin-configured URLs
    events: EventBus
    secret_box: SecretBox | None
    redis: Redis | None = None  # cache and pub/sub across processes, when configured
    started_at: float = 0.0
    # The read cache (stats, quotes, ...); in-process unless Redis is configured.
    cache: Cache = field(default_factory=MemoryCache)
    # Per-process singletons built on first use by the domains (e.g. the content generator).
    extras: dict[str, Any] = field(default_factory=dict)
