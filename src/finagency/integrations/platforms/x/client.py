"""X (API v2) client: posts, threads, images, read-back, public metrics and credential checks.

Errors, beyond ``finagency.integrations.platforms.http.raise_for_status``:

    PermanentExternalError
    ├── DuplicateContentError   403 "duplicate content": the text is already out, read it back
    └── ThreadIncompleteError   the thread's head went out but a later part failed

A 429 waits for the tightest exhausted window (15-minute or 24-hour) from the headers. A 401 is
retried once after a token refresh when the credentials allow one.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime
from typing import Any

import httpx

from finagency.core.errors import ExternalError, PermanentExternalError
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import (
    AccountIdentity,
    Credentials,
    CredentialsSaver,
    ImageAttachment,
    PostRequest,
    RateLimitInfo,
)
from finagency.integrations.platforms.http import excerpt, raise_for_status
from finagency.integrations.platforms.oauth import BearerSession
from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost
from finagency.integrations.platforms.x.readback import rate_limit_from, same_post

DEFAULT_BASE_URL = "https://api.x.com"
POST_URL = "https://x.com/i/web/status/{id}"
_DUPLICATE = "duplicate content"


class DuplicateContentError(PermanentExternalError):
    """X refused the text as a duplicate of a recent post: probably published already, read back."""

    code = "external_duplicate_content"


class ThreadIncompleteError(PermanentExternalError):
    """The first part of a thread was published but a later part failed; never resend it whole."""

    code = "external_thread_incomplete"

    def __init__(self, message: str, *, head: PublishedPost, posted_ids: tuple[str, ...]) -> None:
        super().__init__(message, details={"head": head.external_id, "posted": list(posted_ids)})
        self.head = head
        self.posted_ids = posted_ids


class XClient:
    """A PlatformClient for one X account with an OAuth 2.0 user token."""

    supports_read_back = True
    supports_idempotency_key = False

    def __init__(
        self,
        credentials: Credentials,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token_url: str | None = None,
        on_credentials: CredentialsSaver | None = None,
        name: str = "x",
        read_back_count: int = 50,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.session = BearerSession(
            credentials,
            http,
            token_url=token_url or f"{self.base_url}/2/oauth2/token",
            platform=name,
            on_credentials=on_credentials,
            client_auth="basic",
        )
        self.rules = rules_for("x")
        self.read_back_count = read_back_count
        self.last_rate_limit: RateLimitInfo | None = None
        self._user_id: str | None = credentials.get("user_id") or None

    async def create_post(self, request: PostRequest) -> PublishedPost:
        """Post ``request`` (a thread as chained replies); the first part carries link and image."""
        parts = self._compose(request)
        media_ids = [await self._upload(request.image)] if request.image else []
        head_id = await self._tweet(parts[0], media_ids=media_ids)
        head = PublishedPost(head_id, POST_URL.format(id=head_id), utcnow())
        posted = [head_id]
        for number, part in enumerate(parts[1:], start=2):
            try:
                posted.append(await self._tweet(part, reply_to=posted[-1]))
            except ExternalError as error:
                raise ThreadIncompleteError(
                    f"{self.name}: part {number} of {len(parts)} failed after {len(posted)}"
                    f" went out (thread {head_id}): {error}",
                    head=head,
                    posted_ids=tuple(posted),
                ) from error
        return head

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        user_id = await self._own_id()
        body = await self._call(
            "GET",
            f"/2/users/{user_id}/tweets",
            "GET /2/users/:id/tweets",
            params={"max_results": min(max(limit, 5), 100), "tweet.fields": "created_at"},
        )
        posts = [self._remote(item) for item in body.get("data") or [] if isinstance(item, dict)]
        return posts[:limit]

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """X keeps no key: the newest recent post with this text (or this thread's first part)."""
        for post in await self.recent_posts(self.read_back_count):
            if same_post(post.text, text):
                return post
        return None

    async def engagement(self, external_id: str) -> Engagement:
        body = await self._call(
            "GET",
            f"/2/tweets/{external_id}",
            "GET /2/tweets/:id",
            params={"tweet.fields": "public_metrics"},
        )
        metrics = body["data"].get("public_metrics") or {}
        return Engagement(
            likes=_count(metrics, "like_count"),
            # Quotes are reposts with a comment; "repost_count" is the newer spec's name.
            reposts=_count(metrics, "retweet_count", "repost_count")
            + _count(metrics, "quote_count"),
            replies=_count(metrics, "reply_count"),
            impressions=_count(metrics, "impression_count"),
        )

    async def verify(self) -> AccountIdentity:
        body = await self._call("GET", "/2/users/me", "GET /2/users/me")
        user = body["data"]
        self._user_id = str(user["id"])
        return AccountIdentity(
            id=self._user_id, handle=str(user["username"]), display_name=str(user.get("name", ""))
        )

    def _compose(self, request: PostRequest) -> list[str]:
        parts = [part.strip() for part in request.thread]
        if request.link and not any(request.link in part for part in parts):
            parts[0] = f"{parts[0]}\n\n{request.link}" if parts[0] else request.link
        if not parts[0] and request.image is None:
            raise PermanentExternalError(f"{self.name}: refusing to post an empty text")
        for number, part in enumerate(parts, start=1):
            if not self.rules.fits(part):
                raise PermanentExternalError(
                    f"{self.name}: part {number} is {self.rules.count(part)} weighted characters;"
                    f" the limit is {self.rules.max_length}"
                )
        return parts

    async def _tweet(
        self, text: str, *, media_ids: list[str] | None = None, reply_to: str | None = None
    ) -> str:
        payload: dict[str, Any] = {}
        if text:
            payload["text"] = text
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        if reply_to is not None:
            payload["reply"] = {"in_reply_to_tweet_id": reply_to}
        body = await self._call("POST", "/2/tweets", "POST /2/tweets", json=payload)
        return str(body["data"]["id"])

    async def _upload(self, image: ImageAttachment) -> str:
        """One-shot upload (``POST /2/media/upload``, JSON with base64 media); returns the id."""
        body = await self._call(
            "POST",
            "/2/media/upload",
            "POST /2/media/upload",
            json={
                "media": base64.b64encode(image.data).decode("ascii"),
                "media_category": "tweet_image",
                "media_type": image.mime_type,
            },
        )
        media_id = str(body["data"]["id"])
        if image.alt_text:
            await self._call(
                "POST",
                "/2/media/metadata",
                "POST /2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": image.alt_text[:1000]}}},
            )
        return media_id

    async def _own_id(self) -> str:
        if self._user_id is None:
            await self.verify()
        assert self._user_id is not None
        return self._user_id

    def _remote(self, item: dict[str, Any]) -> RemotePost:
        created = item.get("created_at")
        return RemotePost(
            external_id=str(item["id"]),
            url=POST_URL.format(id=item["id"]),
            text=html.unescape(str(item.get("text", ""))),
            idempotency_key=None,
            published_at=datetime.fromisoformat(created) if created else utcnow(),
        )

    async def _call(self, method: str, path: str, scope: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.session.request(method, self.base_url + path, **kwargs)
        self.last_rate_limit = rate_limit_from(response.headers, scope)
        if response.status_code >= 400:
            self._raise(response)
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise PermanentExternalError(
                f"{self.name}: {scope} answered with non-JSON: {excerpt(response)}"
            ) from None
        if not isinstance(body, dict):
            body = {}
        if "data" not in body and (method == "POST" or body.get("errors")):
            # A lookup of a missing post is HTTP 200 with only "errors" (partial-success shape).
            raise PermanentExternalError(f"{self.name}: {scope}: {excerpt(response)}")
        return body

    def _raise(self, response: httpx.Response) -> None:
        if response.status_code == 403 and _DUPLICATE in response.text.lower():
            raise DuplicateContentError(
                f"{self.name}: X refused the post as duplicate content: {excerpt(response)}"
            )
        reset_at = None
        if response.status_code == 429 and self.last_rate_limit is not None:
            reset_at = self.last_rate_limit.reset_at
        raise_for_status(response, self.name, reset_at=reset_at)


def _count(metrics: dict[str, Any], *names: str) -> int:
    for name in names:
        value = metrics.get(name)
        if isinstance(value, int):
            return value
    return 0
