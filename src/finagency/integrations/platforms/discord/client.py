"""Discord webhook client: execute the webhook with ``?wait=true`` so the message id comes back.

Facts (``reference/platforms.md`` §6): ``POST {base_url}/api/v10/webhooks/{id}/{token}?wait=true``
with no Authorization header (the token in the path is the secret); JSON, or multipart with
``payload_json`` and ``files[n]`` for an image. ``content`` is at most 2000 characters. Without
``wait=true`` Discord answers 204 with no id (and does not even report a message that failed
to save), so we always wait. Errors are ``{"code", "message", "errors"}``; every answer carries
``X-RateLimit-Limit/-Remaining/-Reset`` (epoch seconds with a fraction) / ``-Reset-After`` /
``-Bucket``, and a 429 adds ``Retry-After`` and a body ``retry_after`` (float seconds).

No resend is safe. Execute Webhook has no idempotency key, and unlike a bot's Create Message
it takes no ``nonce``/``enforce_nonce``; a webhook token can GET a message by id but cannot list
the channel, so after a dropped connection there is no way to learn whether the message was
saved. Such a post goes to ``unconfirmed`` for a person to check the channel.

Error mapping: 401 (50027 invalid webhook token), 403, and 404 (10015 unknown webhook, i.e. it
was deleted) → ``AuthExpiredError``; 429 → rate-limited; other 4xx (50035 invalid form body,
50006 empty message) → rejected; 5xx → transient.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import AccountIdentity, PostRequest, RateLimitInfo
from finagency.integrations.platforms.http import epoch, excerpt, raise_for_status, retry_after
from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

DEFAULT_BASE_URL = "https://discord.com"
CONTENT_LIMIT = 2000
_RULES = rules_for("discord")
# User text must never ping @everyone, roles or users.
_NO_MENTIONS: dict[str, list[str]] = {"parse": []}


def compose_text(request: PostRequest) -> str:
    """The approved text, plus the link on its own line (Discord unfurls it) if not already in it."""
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n\n{request.link}"
    return text


def parse_rate_limit(response: httpx.Response, now: datetime | None = None) -> RateLimitInfo:
    """Discord's ``X-RateLimit-*`` headers; on a 429 the reset is ``retry_after`` from now."""
    headers = response.headers
    now = now or utcnow()
    reset_at = epoch(headers.get("x-ratelimit-reset"))
    if reset_at is None and headers.get("x-ratelimit-reset-after"):
        reset_at = now + timedelta(seconds=float(headers["x-ratelimit-reset-after"]))
    if response.status_code == 429:
        reset_at = _retry_after_429(response, now) or reset_at
    remaining = _int(headers.get("x-ratelimit-remaining"))
    if response.status_code == 429:
        remaining = 0
    scope = headers.get("x-ratelimit-bucket", "")
    if headers.get("x-ratelimit-global", "").lower() == "true":
        scope = "global"
    return RateLimitInfo(
        limit=_int(headers.get("x-ratelimit-limit")),
        remaining=remaining,
        reset_at=reset_at,
        scope=f"bucket:{scope}" if scope and scope != "global" else scope,
    )


def _retry_after_429(response: httpx.Response, now: datetime) -> datetime | None:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return now + timedelta(seconds=float(body["retry_after"]))
    return retry_after(response.headers, now)


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


class DiscordClient:
    """One channel webhook. ``thread_id`` posts into a thread of a forum or text channel."""

    # A webhook token can fetch a message by id but cannot list or search the channel, and
    # webhooks take no nonce: a post whose answer was lost cannot be found again.
    supports_read_back = False
    supports_idempotency_key = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        webhook_id: str,
        webhook_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: int = 10,
        guild_id: str = "",
        thread_id: str = "",
        name: str = "discord",
    ) -> None:
        self.http = http
        self.webhook_id = webhook_id
        self.webhook_token = webhook_token
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.guild_id = guild_id
        self.thread_id = thread_id
        self.name = name
        self.last_rate_limit: RateLimitInfo | None = None

    @property
    def _path(self) -> str:
        return f"/api/v{self.api_version}/webhooks/{self.webhook_id}/{self.webhook_token}"

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.thread_id:
            params["thread_id"] = self.thread_id
        return params

    async def create_post(self, request: PostRequest) -> PublishedPost:
        text = compose_text(request)
        length = _RULES.count(text)
        if length > CONTENT_LIMIT:
            raise PermanentExternalError(
                f"{self.name}: content is {length} characters; Discord allows {CONTENT_LIMIT}"
            )
        if not text.strip() and request.image is None:
            raise PermanentExternalError(f"{self.name}: refusing to send an empty message")
        payload: dict[str, Any] = {"content": text, "allowed_mentions": _NO_MENTIONS}
        params = self._params(wait="true")
        if request.image is None:
            response = await self._request("POST", self._path, params=params, json=payload)
        else:
            extension = request.image.mime_type.rpartition("/")[2] or "bin"
            filename = f"image.{extension}"
            # The attachment's description is its alt text; Discord shows the image inline.
            payload["attachments"] = [
                {"id": 0, "filename": filename, "description": request.image.alt_text}
            ]
            response = await self._request(
                "POST",
                self._path,
                params=params,
                data={"payload_json": json.dumps(payload)},
                files={"files[0]": (filename, request.image.data, request.image.mime_type)},
            )
        message = _object(response)
        message_id = str(message.get("id", ""))
        if not message_id:
            raise TransientExternalError(f"{self.name}: webhook answered without a message id")
        return PublishedPost(
            external_id=message_id,
            url=self._message_url(message),
            published_at=_timestamp(message.get("timestamp")),
        )

    def _message_url(self, message: dict[str, Any]) -> str:
        guild_id = str(message.get("guild_id") or self.guild_id)
        channel_id = str(message.get("channel_id", ""))
        if not guild_id or not channel_id:
            return ""
        return f"https://discord.com/channels/{guild_id}/{channel_id}/{message['id']}"

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        """Always empty: a webhook cannot list its channel's messages."""
        return []

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """Always ``None``: see ``supports_read_back``."""
        return None

    async def engagement(self, external_id: str) -> Engagement:
        """Reactions of all kinds, counted as likes; Discord has no views, shares or clicks.

        Replies would need the bot API (a webhook cannot read the channel), so they stay 0.
        """
        response = await self._request(
            "GET", f"{self._path}/messages/{external_id}", params=self._params()
        )
        reactions = _object(response).get("reactions") or []
        likes = sum(int(r.get("count", 0)) for r in reactions if isinstance(r, dict))
        return Engagement(likes=likes)

    async def verify(self) -> AccountIdentity:
        """``GET`` the webhook: it exists and its token is good. ``extra`` has guild/channel."""
        webhook = _object(await self._request("GET", self._path))
        if webhook.get("guild_id"):
            self.guild_id = str(webhook["guild_id"])
        return AccountIdentity(
            id=str(webhook.get("id", self.webhook_id)),
            handle=str(webhook.get("name", "")),
            display_name=str(webhook.get("name", "")),
            extra={
                "guild_id": str(webhook.get("guild_id") or ""),
                "channel_id": str(webhook.get("channel_id") or ""),
            },
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as error:
            # The webhook token is in the URL: keep it out of error messages.
            raise TransientExternalError(
                f"{self.name}: {type(error).__name__} on {method}; the message may have been sent"
            ) from None
        self.last_rate_limit = parse_rate_limit(response)
        if response.status_code < 400:
            return response
        what = f"{self.name}: HTTP {response.status_code} on {method}: {excerpt(response)}"
        if response.status_code == 429:
            raise RateLimitedExternalError(what, reset_at=self.last_rate_limit.reset_at)
        if response.status_code == 404 and _error_code(response) == 10015:
            raise AuthExpiredError(f"{self.name}: the webhook was deleted (Unknown Webhook)")
        try:
            raise_for_status(response, self.name)
        except (TransientExternalError, AuthExpiredError, PermanentExternalError) as error:
            # Rebuild the message so the token (in the request path) never appears in it.
            raise type(error)(what) from None
        return response


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise TransientExternalError(f"discord: expected a JSON object, got: {excerpt(response)}")
    return body


def _error_code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return utcnow()
