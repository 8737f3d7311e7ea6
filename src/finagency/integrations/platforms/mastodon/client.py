"""Mastodon client: statuses (text, link, image, thread), read-back, engagement, verify.

Facts from ``reference/platforms.md`` §4: ``POST /api/v1/statuses`` with a user bearer token and
an ``Idempotency-Key`` the server keeps for an hour (a resend with the same key returns the first
status, so ``supports_idempotency_key`` is True); images go through ``POST /api/v2/media`` (200
when ready, 202 while processing, then ``GET /api/v1/media/:id`` until it stops answering 206);
errors are ``{"error": "..."}`` (401 bad token, 422 validation, 429 too many requests); the
``X-RateLimit-Reset`` header is an ISO-8601 time. Links are plain URLs in the text (the server
builds the card); a ``PostRequest.link`` missing from the text is appended to the first status.
Each status of a thread gets its own key (``<key>`` for the first, ``<key>:<n>`` after), so a
resend of a half-published thread returns the parts that exist and creates only the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from finagency.core.errors import PermanentExternalError, TransientExternalError
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import (
    AccountIdentity,
    ImageAttachment,
    PostRequest,
    RateLimitInfo,
)
from finagency.integrations.platforms.http import raise_for_status, transport_error
from finagency.integrations.platforms.mastodon.content import (
    html_to_text,
    matches,
    parse_time,
    rate_limit,
)
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

# The most statuses one page of GET /api/v1/accounts/:id/statuses returns.
MAX_PAGE = 40

Sleep = Callable[[float], Awaitable[None]]


def part_key(idempotency_key: str, index: int) -> str:
    """The Idempotency-Key of the ``index``-th status of a thread (0 = the post's own key)."""
    return idempotency_key if index == 0 else f"{idempotency_key}:{index + 1}"


class MastodonClient:
    """A ``PlatformClient`` for one account on one Mastodon instance."""

    supports_read_back = True
    supports_idempotency_key = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        access_token: str,
        name: str = "mastodon",
        account_id: str | None = None,
        visibility: str = "public",
        language: str | None = None,
        media_poll_interval: float = 1.0,
        media_poll_attempts: int = 30,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.visibility = visibility
        self.language = language
        self.media_poll_interval = media_poll_interval
        self.media_poll_attempts = media_poll_attempts
        self.last_rate_limit: RateLimitInfo | None = None
        self._access_token = access_token
        self._account_id = account_id
        self._sleep = sleep

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One call: bearer auth, rate-limit headers recorded, errors typed (2xx returned)."""
        sent_headers = {"Authorization": f"Bearer {self._access_token}", **(headers or {})}
        try:
            response = await self.http.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params=params,
                files=files,
                data=data,
                headers=sent_headers,
            )
        except httpx.HTTPError as error:
            raise transport_error(error, self.name) from error
        self.last_rate_limit = rate_limit(response.headers, f"{method} {path}")
        reset_at = self.last_rate_limit.reset_at if self.last_rate_limit else None
        raise_for_status(response, self.name, reset_at=reset_at)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise TransientExternalError(
                f"mastodon: unreadable answer to {response.request.url.path}"
            ) from error

    async def create_post(self, request: PostRequest) -> PublishedPost:
        parts = list(request.thread)
        if request.link and not any(request.link in part for part in parts):
            parts[0] = f"{parts[0]}\n\n{request.link}"
        media_ids = [await self._upload_media(request.image)] if request.image else []
        first: PublishedPost | None = None
        reply_to: str | None = None
        for index, text in enumerate(parts):
            body: dict[str, Any] = {"status": text, "visibility": self.visibility}
            if index == 0 and media_ids:
                body["media_ids"] = media_ids
            if reply_to is not None:
                body["in_reply_to_id"] = reply_to
            if self.language:
                body["language"] = self.language
            response = await self._request(
                "POST",
                "/api/v1/statuses",
                json=body,
                headers={"Idempotency-Key": part_key(request.idempotency_key, index)},
            )
            status = self._json(response)
            published = self._published(status)
            reply_to = published.external_id
            first = first or published
        assert first is not None  # a request always has at least one part
        return first

    async def _upload_media(self, image: ImageAttachment) -> str:
        extension = image.mime_type.rpartition("/")[2] or "bin"
        response = await self._request(
            "POST",
            "/api/v2/media",
            files={"file": (f"image.{extension}", image.data, image.mime_type)},
            data={"description": image.alt_text} if image.alt_text else None,
        )
        media_id = str(self._json(response)["id"])
        if response.status_code == 200:
            return media_id
        # 202: still processing; GET answers 206 until the attachment is ready.
        for _ in range(self.media_poll_attempts):
            await self._sleep(self.media_poll_interval)
            polled = await self._request("GET", f"/api/v1/media/{media_id}")
            if polled.status_code == 200:
                return media_id
        raise TransientExternalError(f"mastodon: media {media_id} still processing")

    def _published(self, status: Mapping[str, Any]) -> PublishedPost:
        external_id = str(status["id"])
        url = status.get("url") or status.get("uri") or f"{self.base_url}/statuses/{external_id}"
        return PublishedPost(
            external_id=external_id,
            url=str(url),
            published_at=parse_time(status.get("created_at")) or utcnow(),
        )

    def _remote(self, status: Mapping[str, Any]) -> RemotePost:
        published = self._published(status)
        return RemotePost(
            external_id=published.external_id,
            url=published.url,
            text=html_to_text(str(status.get("content") or "")),
            idempotency_key=None,
            published_at=published.published_at,
        )

    async def _account(self) -> str:
        if self._account_id is None:
            self._account_id = (await self.verify()).id
        return self._account_id

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        """The account's own latest statuses (reblogs left out), newest first."""
        account_id = await self._account()
        response = await self._request(
            "GET",
            f"/api/v1/accounts/{account_id}/statuses",
            params={"limit": max(1, min(limit, MAX_PAGE)), "exclude_reblogs": "true"},
        )
        statuses = self._json(response)
        if not isinstance(statuses, list):
            raise TransientExternalError("mastodon: statuses answer is not a list")
        return [self._remote(status) for status in statuses]

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """Match ``text`` among recent statuses; never resends (that could create the post).

        Mastodon cannot look a status up by its Idempotency-Key, so the key is not used here;
        within the hour a resend through ``create_post`` with the same key is the safe retry.
        """
        for post in await self.recent_posts(MAX_PAGE):
            if matches(post.text, text):
                return post
        return None

    async def engagement(self, external_id: str) -> Engagement:
        response = await self._request("GET", f"/api/v1/statuses/{external_id}")
        status = self._json(response)
        return Engagement(
            likes=int(status.get("favourites_count") or 0),
            reposts=int(status.get("reblogs_count") or 0),
            replies=int(status.get("replies_count") or 0),
        )

    async def verify(self) -> AccountIdentity:
        response = await self._request("GET", "/api/v1/accounts/verify_credentials")
        account = self._json(response)
        try:
            identity = AccountIdentity(
                id=str(account["id"]),
                handle=str(account.get("acct") or account["username"]),
                display_name=str(account.get("display_name") or ""),
                extra={"url": str(account.get("url") or ""), "instance": self.base_url},
            )
        except (KeyError, TypeError) as error:
            raise PermanentExternalError("mastodon: verify_credentials has no account") from error
        self._account_id = identity.id
        return identity
