"""Generic signed webhook (n8n, Zapier, Make, your own endpoint): a URL and a shared secret.

Credentials: ``url`` (HTTPS in production; it is the receiver's address, and often itself a
secret) and ``secret`` (the HMAC key, used as its UTF-8 bytes; generate it with
``secrets.token_urlsafe(32)``). See ``signing`` for what receivers must check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient
from finagency.integrations.platforms.webhook.client import SCHEMA_VERSION, WebhookClient
from finagency.integrations.platforms.webhook.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    event_id_for,
    signature,
    signed_headers,
    verify,
)

REQUIRED_CREDENTIALS: tuple[str, ...] = ("url", "secret")


def build(
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    """A client posting to ``base_url`` if given, else to the ``url`` credential.

    ``http`` must be the guarded egress client; ``on_credentials`` is unused (nothing expires).
    """
    del on_credentials
    missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key, "").strip()]
    if base_url and "url" in missing:
        missing.remove("url")
    if missing:
        raise PermanentExternalError(
            f"webhook: missing credentials {', '.join(missing)}"
            f" (needs {', '.join(REQUIRED_CREDENTIALS)})",
            details={"missing": missing},
        )
    url = base_url or credentials["url"].strip()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise PermanentExternalError("webhook: the url must start with https:// (or http://)")
    return WebhookClient(http, url=url, secret=credentials["secret"])


__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "IDEMPOTENCY_HEADER",
    "REQUIRED_CREDENTIALS",
    "SCHEMA_VERSION",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "WebhookClient",
    "build",
    "event_id_for",
    "signature",
    "signed_headers",
    "verify",
]
