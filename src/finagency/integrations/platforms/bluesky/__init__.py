"""Bluesky: the client and ``build`` from stored credentials.

Credentials: ``identifier`` (handle, DID or email) and ``app_password`` are required; a stored
session (``access_jwt``, ``refresh_jwt``, ``did``, ``handle``) is reused when present, and every
new session is passed to ``on_credentials`` so the caller can store it. The PDS comes from
``base_url=``, else the credential ``pds_url``, else https://bsky.social.
"""

from __future__ import annotations

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.bluesky.client import DEFAULT_PDS, BlueskyClient
from finagency.integrations.platforms.bluesky.records import record_key
from finagency.integrations.platforms.bluesky.session import XrpcSession

REQUIRED_CREDENTIALS: tuple[str, ...] = ("identifier", "app_password")
OPTIONAL_CREDENTIALS: tuple[str, ...] = ("access_jwt", "refresh_jwt", "did", "handle", "pds_url")


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """A ``BlueskyClient`` for these credentials (no call is made until the first operation)."""
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key)]
    if missing:
        raise PermanentExternalError(
            f"bluesky: missing credentials: {', '.join(missing)}",
            details={"missing": missing},
        )
    return BlueskyClient(
        http,
        credentials=credentials,
        base_url=base_url or credentials.get("pds_url") or DEFAULT_PDS,
        on_credentials=on_credentials,
    )


__all__ = [
    "DEFAULT_PDS",
    "OPTIONAL_CREDENTIALS",
    "REQUIRED_CREDENTIALS",
    "BlueskyClient",
    "XrpcSession",
    "build",
    "record_key",
]
