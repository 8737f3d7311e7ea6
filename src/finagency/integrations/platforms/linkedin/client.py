"""LinkedIn (Posts API) client: posts with article links or images, read-back, metrics, identity.

Every call carries ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0``; URNs
in paths and queries are percent-encoded. A created post's URN comes from the ``x-restli-id``
header of the empty 201. LinkedIn sends no rate-limit headers: a 429 means a daily quota is
spent, and quotas reset at midnight UTC. A 422 naming a duplicate is ``DuplicateContentError``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from finagency.core.errors import PermanentExternalError, RateLimitedExternalError
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
from finagency.integrations.platforms.linkedin.little import (
    escape_little,
    same_post,
    unescape_little,
)
from finagency.integrations.platforms.oauth import BearerSession
from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

DEFAULT_BASE_URL = "https://api.linkedin.com"
DEFAULT_OAUTH_BASE_URL = "https://www.linkedin.com"
# Monthly versions are retired on a rolling basis; keep this configurable.
DEFAULT_VERSION = "202605"
FEED_URL = "https://www.linkedin.com/feed/update/{urn}"
_DUPLICATE_OF = re.compile(r"duplicate of (urn:li:\w+:\d+)", re.IGNORECASE)
_ARTICLE_TITLE = 200


class DuplicateContentError(PermanentExternalError):
    """LinkedIn refused the text as a duplicate (422): probably published already, read back."""

    code = "external_duplicate_content"

    def __init__(self, message: str, *, existing_urn: str | None = None) -> None:
        super().__init__(message, details={"existing_urn": existing_urn} if existing_urn else None)
        self.existing_urn = existing_urn


class LinkedInClient:
    """A PlatformClient posting as ``author_urn`` (a person or an organization it administers)."""

    supports_read_back = True
    supports_idempotency_key = False

    def __init__(
        self,
        credentials: Credentials,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        version: str = DEFAULT_VERSION,
        on_credentials: CredentialsSaver | None = None,
        name: str = "linkedin",
        read_back_count: int = 50,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.author = credentials["author_urn"]
        self.version = version
        self.session = BearerSession(
            credentials,
            http,
            token_url=f"{oauth_base_url.rstrip('/')}/oauth/v2/accessToken",
            platform=name,
            on_credentials=on_credentials,
            client_auth="body",
        )
        self.rules = rules_for("linkedin")
        self.read_back_count = read_back_count
        self.last_rate_limit: RateLimitInfo | None = None

    async def create_post(self, request: PostRequest) -> PublishedPost:
        """One post (LinkedIn has no threads); a link becomes an article, or joins an image post."""
        text = request.text.strip()
        content: dict[str, Any] | None = None
        if request.image is not None:
            if request.link and request.link not in text:
                text = f"{text}\n\n{request.link}"
            content = {"media": await self._upload(request.image)}
        elif request.link:
            title = text.splitlines()[0][:_ARTICLE_TITLE] if text else request.link
            content = {"article": {"source": request.link, "title": title}}
        if not text and content is None:
            raise PermanentExternalError(f"{self.name}: refusing to post an empty text")
        if not self.rules.fits(text):
            raise PermanentExternalError(
                f"{self.name}: text is {self.rules.count(text)} UTF-16 units;"
                f" the limit is {self.rules.max_length}"
            )
        body: dict[str, Any] = {
            "author": self.author,
            "commentary": escape_little(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content is not None:
            body["content"] = content
        response = await self._call("POST", "/rest/posts", json=body)
        urn = response.headers.get("x-restli-id")
        if urn:
            return PublishedPost(urn, FEED_URL.format(urn=urn), utcnow())
        # Created, but the id header is missing: look the post up rather than guess.
        found = await self.find_post(request.idempotency_key, text)
        if found is None:
            return PublishedPost("", FEED_URL.format(urn=""), utcnow())
        return PublishedPost(found.external_id, found.url, found.published_at)

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        count = min(max(limit, 1), 100)
        query = f"q=author&author={_encode(self.author)}&count={count}&sortBy=CREATED"
        body = (await self._call("GET", f"/rest/posts?{query}")).json()
        posts = [self._remote(item) for item in body.get("elements") or [] if "id" in item]
        return posts[:limit]

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """LinkedIn keeps no key: the newest of the author's recent posts with this text."""
        for post in await self.recent_posts(self.read_back_count):
            if same_post(post.text, text):
                return post
        return None

    async def engagement(self, external_id: str) -> Engagement:
        """Page posts: share statistics (with impressions and clicks); member posts: social actions."""
        if self.author.startswith("urn:li:organization:"):
            kind = "ugcPosts" if external_id.startswith("urn:li:ugcPost:") else "shares"
            query = (
                f"q=organizationalEntity&organizationalEntity={_encode(self.author)}"
                f"&{kind}=List({_encode(external_id)})"
            )
            path = f"/rest/organizationalEntityShareStatistics?{query}"
            elements = (await self._call("GET", path)).json().get("elements") or [{}]
            stats = elements[0].get("totalShareStatistics") or {}
            return Engagement(
                likes=int(stats.get("likeCount", 0)),
                reposts=int(stats.get("shareCount", 0)),
                replies=int(stats.get("commentCount", 0)),
                impressions=int(stats.get("impressionCount", 0)),
                clicks=int(stats.get("clickCount", 0)),
            )
        body = (await self._call("GET", f"/rest/socialActions/{_encode(external_id)}")).json()
        likes = body.get("likesSummary") or {}
        comments = body.get("commentsSummary") or {}
        return Engagement(
            likes=int(likes.get("totalLikes", likes.get("aggregatedTotalLikes", 0))),
            replies=int(comments.get("aggregatedTotalComments", 0)),
        )

    async def verify(self) -> AccountIdentity:
        """The member behind the token (OpenID ``userinfo``)."""
        body = (await self._call("GET", "/v2/userinfo")).json()
        person = f"urn:li:person:{body['sub']}"
        extra = {"person_urn": person, "author_urn": self.author}
        if body.get("email"):
            extra["email"] = str(body["email"])
        return AccountIdentity(
            id=str(body["sub"]),
            handle=str(body.get("email") or person),
            display_name=str(body.get("name", "")),
            extra=extra,
        )

    async def _upload(self, image: ImageAttachment) -> dict[str, str]:
        """initializeUpload, then PUT the bytes to the returned URL; the post's media entry."""
        body = {"initializeUploadRequest": {"owner": self.author}}
        response = await self._call("POST", "/rest/images?action=initializeUpload", json=body)
        value = response.json()["value"]
        upload = await self.session.request(
            "PUT",
            value["uploadUrl"],
            content=image.data,
            headers={"Content-Type": "application/octet-stream"},
        )
        self._check(upload)
        media = {"id": str(value["image"])}
        if image.alt_text:
            media["altText"] = image.alt_text
        return media

    def _remote(self, item: dict[str, Any]) -> RemotePost:
        millis = item.get("publishedAt") or item.get("createdAt")
        return RemotePost(
            external_id=str(item["id"]),
            url=FEED_URL.format(urn=item["id"]),
            text=unescape_little(str(item.get("commentary", ""))),
            idempotency_key=None,
            published_at=datetime.fromtimestamp(millis / 1000, UTC) if millis else utcnow(),
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": "2.0.0"}
        response = await self.session.request(
            method, self.base_url + path, headers=headers, **kwargs
        )
        self._check(response)
        return response

    def _check(self, response: httpx.Response) -> None:
        self.last_rate_limit = None
        status = response.status_code
        if status < 400:
            return
        what = (
            f"{self.name}: HTTP {status} on {response.request.method} {response.request.url.path}"
        )
        if status == 429:
            reset_at = _next_midnight_utc()
            self.last_rate_limit = RateLimitInfo(remaining=0, reset_at=reset_at, scope="daily")
            raise RateLimitedExternalError(f"{what}: {excerpt(response)}", reset_at=reset_at)
        if status == 422 and "duplicate" in response.text.lower():
            found = _DUPLICATE_OF.search(response.text)
            raise DuplicateContentError(
                f"{what}: duplicate content: {excerpt(response)}",
                existing_urn=found.group(1) if found else None,
            )
        raise_for_status(response, self.name)


def _encode(urn: str) -> str:
    return quote(urn, safe="")


def _next_midnight_utc() -> datetime:
    tomorrow = utcnow().date() + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=UTC)
