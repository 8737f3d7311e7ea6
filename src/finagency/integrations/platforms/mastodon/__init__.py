"""Mastodon: the client and ``build`` from stored credentials.

Credentials: ``access_token`` (a user token with ``write:statuses``; Mastodon tokens do not
expire and have no refresh). The instance URL comes from ``base_url=`` or, failing that, the
credential ``instance_url`` (``base_url`` is accepted too); ``account_id`` is optional and is
looked up with verify_credentials when missing.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.mastodon.client import MastodonClient

REQUIRED_CREDENTIALS: tuple[str, ...] = ("access_token",)
INSTANCE_KEYS: tuple[str, ...] = ("instance_url", "base_url")
OPTIONAL_CREDENTIALS: tuple[str, ...] = (*INSTANCE_KEYS, "account_id")


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """A ``MastodonClient`` for these credentials; ``on_credentials`` is unused (no refresh)."""
    del on_credentials  # Mastodon tokens never refresh
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key)]
    instance = base_url or next(
        (credentials[key] for key in INSTANCE_KEYS if credentials.get(key)), None
    )
    if instance is None:
        missing.append("instance_url")
    if missing:
        raise PermanentExternalError(
            f"mastodon: missing credentials: {', '.join(missing)}",
            details={"missing": missing},
        )
    assert instance is not None
    return MastodonClient(
        http,
        base_url=instance,
        access_token=credentials["access_token"],
        account_id=credentials.get("account_id") or None,
    )


__all__ = ["OPTIONAL_CREDENTIALS", "REQUIRED_CREDENTIALS", "MastodonClient", "build"]
