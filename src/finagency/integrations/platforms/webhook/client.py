"""Generic signed webhook: POST each post as signed JSON to a configured URL (n8n, Zapier, Make).

The caller must hand in the guarded egress client (SSRF checks, no redirects, short timeouts):
this client only uses whatever ``httpx.AsyncClient`` it is given. Signing and how receivers
verify are in ``signing``.

Payload (schema version 1), serialised once and sent as those exact bytes::

    {
      "id": "evt_<32 hex>",          same for every retry of this post (dedupe on it)
      "type": "post.created",        or "ping" (from verify)
      "version": 1,
      "created_at": "2026-01-01T12:00:00Z",   this attempt
      "data": {
        "idempotency_key": "...",
        "text": "...",               the approved text, exactly
        "parts": ["..."],            thread parts in order; [text] when not split
        "link": "https://..." | null,
        "image": null | {"mime_type": "image/png", "alt_text": "...", "size": 1234,
                         "data_base64": "<standard base64 of the bytes>"}
      }
    }

Any 2xx is success. If the receiver answers a JSON object with ``id`` and/or ``url`` (e.g. the
post it created), those become the published post's id and link; otherwise the event id is the
id and the link is empty. 3xx (redirects are not followed), 401, 403, 404 and 410 mean the
endpoint refuses us or is gone: ``AuthExpiredError`` pauses the account until someone fixes it.
429 → rate-limited (``Retry-After``); 408 and 5xx → transient; other 4xx → rejected.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import AccountIdentity, PostRequest, RateLimitInfo
from finagency.integrations.platforms.http import excerpt, retry_after
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost
from finagency.integrations.platforms.webhook.signing import event_id_for, signed_headers

SCHEMA_VERSION = 1


class WebhookClient:
    # A webhook receiver is write-only from our side: there is nothing to list or search.
    supports_read_back = False
    # Every retry of a post carries the same event id (``X-Finagency-Event-Id`` and
    # ``Idempotency-Key``), so a receiver that dedupes on it turns a resend into a no-op.
    # Receivers that do not dedupe would post twice: say so when connecting one.
    supports_idempotency_key = True

    def __init__(
        self, http: httpx.AsyncClient, *, url: str, secret: str, name: str = "webhook"
    ) -> None:
        self.http = http
        self.url = url
        self.secret = secret
        self.name = name
        self.last_rate_limit: RateLimitInfo | None = None

    def payload(self, request: PostRequest) -> dict[str, Any]:
        """The event for one post (without the per-attempt ``created_at``)."""
        image = None
        if request.image is not None:
            image = {
                "mime_type": request.image.mime_type,
                "alt_text": request.image.alt_text,
                "size": len(request.image.data),
                "data_base64": base64.b64encode(request.image.data).decode("ascii"),
            }
        return {
            "id": event_id_for(request.idempotency_key),
            "type": "post.created",
            "version": SCHEMA_VERSION,
            "data": {
                "idempotency_key": request.idempotency_key,
                "text": request.text,
                "parts": list(request.thread),
                "link": request.link,
                "image": image,
            },
        }

    async def create_post(self, request: PostRequest) -> PublishedPost:
        if not request.text.strip():
            raise PermanentExternalError(f"{self.name}: refusing to send an empty post")
        event = self.payload(request)
        now = utcnow()
        answer = _json_object(await self._deliver(event, now))
        return PublishedPost(
            external_id=str(answer.get("id") or event["id"]),
            url=str(answer.get("url") or ""),
            published_at=now,
        )

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        """Always empty: see ``supports_read_back``."""
        return []

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """Always ``None``: see ``supports_read_back``."""
        return None

    async def engagement(self, external_id: str) -> Engagement:
        """Zeros: a webhook receiver reports nothing back."""
        return Engagement()

    async def verify(self) -> AccountIdentity:
        """Send a signed ``ping`` event; any 2xx means the endpoint accepts our signature."""
        event = {
            "id": f"evt_ping_{secrets.token_hex(12)}",
            "type": "ping",
            "version": SCHEMA_VERSION,
            "data": {},
        }
        await self._deliver(event, utcnow())
        host = urlsplit(self.url).hostname or ""
        # The URL path often embeds a secret (Zapier, Make), so only its hash identifies it.
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        return AccountIdentity(id=digest, handle=host, display_name=host)

    async def _deliver(self, event: dict[str, Any], now: datetime) -> httpx.Response:
        body = json.dumps(
            {**event, "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = signed_headers(
            self.secret, body, event_id=event["id"], event_type=event["type"], now=now
        )
        headers["User-Agent"] = "finagency-webhook/1"
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise TransientExternalError(
                f"{self.name}: {type(error).__name__}; the event may have been delivered"
            ) from None
        status = response.status_code
        if status == 429:
            reset_at = retry_after(response.headers) or utcnow() + timedelta(seconds=1)
            self.last_rate_limit = RateLimitInfo(remaining=0, reset_at=reset_at, scope="webhook")
        else:
            self.last_rate_limit = RateLimitInfo(scope="webhook")
        if 200 <= status < 300:
            return response
        what = f"{self.name}: receiver answered HTTP {status}: {excerpt(response)}"
        if status == 429:
            raise RateLimitedExternalError(what, reset_at=self.last_rate_limit.reset_at)
        if 300 <= status < 400:
            raise AuthExpiredError(f"{what} (redirects are not followed: set the final URL)")
        if status in (401, 403, 404, 410):
            raise AuthExpiredError(what)
        if status >= 500 or status == 408:
            raise TransientExternalError(what)
        raise PermanentExternalError(what)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
