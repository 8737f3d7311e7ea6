"""Which client publishes for an account (the sandbox now; real platforms plug in here)."""

from __future__ import annotations

from typing import Protocol

from finagency.core.errors import PermanentExternalError
from finagency.core.services import Services
from finagency.integrations.platforms.sandbox import SandboxClient
from finagency.integrations.platforms.types import PublishedPost, RemotePost
from finagency.models import Account
from finagency.publishing.sandbox_store import DatabaseSandboxStore


class PlatformClient(Protocol):
    async def create_post(self, text: str, *, idempotency_key: str) -> PublishedPost: ...

    async def find_post(self, idempotency_key: str) -> RemotePost | None: ...


def can_read_back(platform: str) -> bool:
    """Platforms whose recent posts can be searched; the rest need a person to confirm."""
    base = platform.split(":", 1)[0]
    return base in {"sandbox", "x", "bluesky", "mastodon", "linkedin"}


def client_for(account: Account, services: Services) -> PlatformClient:
    kind, _, stands_in_for = account.platform.partition(":")
    if kind == "sandbox":
        return SandboxClient(
            DatabaseSandboxStore(services.sessionmaker, account),
            stands_in_for=stands_in_for or "x",
            handle=account.handle,
            failure_rate=services.settings.sandbox_failure_rate,
        )
    raise PermanentExternalError(
        f"no client for platform {account.platform!r} is available in this version"
    )
