"""Slack: a bot token and channel (Web API), or an incoming webhook URL.

Credentials, one of two sets:

- ``("bot_token", "channel")``: a bot token ``xoxb-…`` with ``chat:write`` (plus ``files:write``
  for images and ``reactions:read`` for engagement) and the channel **id** (``C…``; the bot
  must be in the channel). Posts have ids, links and engagement.
- ``("webhook_url",)``: ``https://hooks.slack.com/services/T…/B…/…``. Text only; Slack returns
  no message id, so posts have no link and no engagement.

When both sets are present the bot token is used.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.slack.client import (
    DEFAULT_BASE_URL,
    TEXT_LIMIT,
    SlackClient,
    compose_text,
    escape,
)

WEB_API_CREDENTIALS: tuple[str, ...] = ("bot_token", "channel")
WEBHOOK_CREDENTIALS: tuple[str, ...] = ("webhook_url",)
# Either set is enough. REQUIRED_CREDENTIALS names the preferred set (a flat tuple, like every
# other platform's); a caller validating generically must also accept WEBHOOK_CREDENTIALS
# (CREDENTIAL_SETS lists both), or simply call build(), which checks both.
REQUIRED_CREDENTIALS: tuple[str, ...] = WEB_API_CREDENTIALS
CREDENTIAL_SETS: tuple[tuple[str, ...], ...] = (WEB_API_CREDENTIALS, WEBHOOK_CREDENTIALS)


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """A client for either credential set. ``base_url`` is the Web API's (the webhook URL is
    used as given); ``on_credentials`` is unused (bot tokens without rotation do not expire)."""
    del on_credentials
    present = {key: value.strip() for key, value in credentials.items() if value.strip()}
    if all(key in present for key in WEB_API_CREDENTIALS):
        return SlackClient(
            http,
            bot_token=present["bot_token"],
            channel=present["channel"],
            base_url=base_url or DEFAULT_BASE_URL,
        )
    if "webhook_url" in present:
        return SlackClient(http, webhook_url=present["webhook_url"])
    missing = [key for key in WEB_API_CREDENTIALS if key not in present]
    raise PermanentExternalError(
        f"slack: missing credentials {', '.join(missing)} (needs bot_token and channel,"
        " or webhook_url)",
        details={"missing": missing},
    )


__all__ = [
    "CREDENTIAL_SETS",
    "REQUIRED_CREDENTIALS",
    "TEXT_LIMIT",
    "WEBHOOK_CREDENTIALS",
    "WEB_API_CREDENTIALS",
    "SlackClient",
    "build",
    "compose_text",
    "escape",
]
