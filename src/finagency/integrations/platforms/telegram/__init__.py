"""Telegram (Bot API): credentials are a bot token from @BotFather and the chat to post into.

``chat_id`` is a numeric id (``-100…`` for channels and supergroups) or ``@channelusername``;
the bot must be an admin of a channel, or a member of a group, allowed to post.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.telegram.client import (
    CAPTION_LIMIT,
    DEFAULT_BASE_URL,
    MESSAGE_LIMIT,
    TelegramClient,
    compose_text,
    utf16_length,
)

REQUIRED_CREDENTIALS: tuple[str, ...] = ("bot_token", "chat_id")


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """A client for these credentials; ``PermanentExternalError`` if any is missing or blank."""
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key, "").strip()]
    if missing:
        raise PermanentExternalError(
            f"telegram: missing credentials {', '.join(missing)}"
            f" (needs {', '.join(REQUIRED_CREDENTIALS)})",
            details={"missing": missing},
        )
    return TelegramClient(
        http,
        bot_token=credentials["bot_token"].strip(),
        chat_id=credentials["chat_id"].strip(),
        base_url=base_url or DEFAULT_BASE_URL,
        on_credentials=on_credentials,
    )


__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "REQUIRED_CREDENTIALS",
    "TelegramClient",
    "build",
    "compose_text",
    "utf16_length",
]
