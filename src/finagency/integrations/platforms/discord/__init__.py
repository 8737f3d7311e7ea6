"""Discord (channel webhooks): credentials are the webhook's id and token.

Both come from the webhook URL ``https://discord.com/api/webhooks/{webhook_id}/{webhook_token}``
(Server Settings → Integrations → Webhooks). Optional: ``guild_id`` (to build message links when
Discord leaves it out of the answer; ``verify`` reports it) and ``thread_id``.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.discord.client import (
    CONTENT_LIMIT,
    DEFAULT_BASE_URL,
    DiscordClient,
    compose_text,
    parse_rate_limit,
)

REQUIRED_CREDENTIALS: tuple[str, ...] = ("webhook_id", "webhook_token")
OPTIONAL_CREDENTIALS: tuple[str, ...] = ("guild_id", "thread_id")


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """A client for these credentials; ``on_credentials`` is unused (webhook URLs never expire)."""
    del on_credentials
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key, "").strip()]
    if missing:
        raise PermanentExternalError(
            f"discord: missing credentials {', '.join(missing)}"
            f" (needs {', '.join(REQUIRED_CREDENTIALS)})",
            details={"missing": missing},
        )
    return DiscordClient(
        http,
        webhook_id=credentials["webhook_id"].strip(),
        webhook_token=credentials["webhook_token"].strip(),
        base_url=base_url or DEFAULT_BASE_URL,
        guild_id=credentials.get("guild_id", "").strip(),
        thread_id=credentials.get("thread_id", "").strip(),
    )


__all__ = [
    "CONTENT_LIMIT",
    "OPTIONAL_CREDENTIALS",
    "REQUIRED_CREDENTIALS",
    "DiscordClient",
    "build",
    "compose_text",
    "parse_rate_limit",
]
