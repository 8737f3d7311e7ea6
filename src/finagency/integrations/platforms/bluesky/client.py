"""Bluesky client: posts (text, link facets and card, image, thread), read-back, engagement, verify.

Idempotency (``reference/queue.md`` §4): Bluesky has no idempotency header, but
``com.atproto.repo.createRecord`` takes a client-chosen ``rkey``. Each post's record key is
derived from its idempotency key (``records.record_key``), so a retry names the same record and
cannot mint a second one; ``supports_idempotency_key`` is therefore True. When the key is
already taken, the reference PDS answers 500 ``InternalServerError`` today
(bluesky-social/atproto#3718, indigo#873) and an explicit conflict error is on its way
(atproto#4728; others answer 409 ``RecordAlreadyExists``). So after a conflict *or* a 5xx the
client reads the record back with ``getRecord``: if it holds our text, that is the post (a
resend, or a create whose answer was lost); if the read-back fails too, the call raises
``TransientExternalError`` and ``find_post`` settles it later (``getRecord`` by the same key).

Threads reply with ``reply.root``/``reply.parent`` refs (uri + cid). The image (uploadBlob then
``app.bsky.embed.images``) goes on the first post; otherwise a ``PostRequest.link`` gets an
``app.bsky.embed.external`` card on the post that contains it (or the first one). Every URL in
the text gets a link facet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from finagency.core.errors import (
    ExternalError,
    PermanentExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import (
    AccountIdentity,
    Credentials,
    CredentialsSaver,
    ImageAttachment,
    PostRequest,
    RateLimitInfo,
)
from finagency.integrations.platforms.bluesky.records import (
    POST_COLLECTION,
    external_embed,
    format_time,
    link_facets,
    parse_time,
    record_key,
    web_url,
)
from finagency.integrations.platforms.bluesky.session import (
    XrpcSession,
    body_of,
    error_name,
    raise_for_xrpc,
)
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

DEFAULT_PDS = "https://bsky.social"
# getAuthorFeed pages hold at most 100 items.
MAX_PAGE = 100
_CONFLICT_ERRORS = frozenset({"RecordAlreadyExists", "AlreadyExists"})
_SPACE = re.compile(r"\s+")
_THREAD_SUFFIX = re.compile(r"\s*\(1/\d+\)$")


def _matches(remote_text: str, sent_text: str) -> bool:
    """Whitespace-insensitive match, also of a thread's first part ("... (1/3)")."""
    remote = _SPACE.sub(" ", remote_text).strip()
    sent = _SPACE.sub(" ", sent_text).strip()
    head = _THREAD_SUFFIX.sub("", remote)
    return remote == sent or (head != remote and bool(head) and sent.startswith(head))


def _is_conflict(response: httpx.Response) -> bool:
    if response.status_code == 409 or error_name(response) in _CONFLICT_ERRORS:
        return True
    return response.status_code == 400 and "already exists" in response.text.lower()


class BlueskyClient:
    """A ``PlatformClient`` for one Bluesky account (app-password session on its PDS)."""

    supports_read_back = True
    supports_idempotency_key = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        credentials: Credentials,
        base_url: str = DEFAULT_PDS,
        on_credentials: CredentialsSaver | None = None,
        name: str = "bluesky",
        langs: Sequence[str] = ("en",),
    ) -> None:
        self.session = XrpcSession(
            http,
            base_url=base_url,
            credentials=credentials,
            on_credentials=on_credentials,
            name=name,
        )
        self.name = name
        self.langs = tuple(langs)[:3]

    @property
    def base_url(self) -> str:
        return self.session.base_url

    @property
    def last_rate_limit(self) -> RateLimitInfo | None:
        return self.session.last_rate_limit

    @last_rate_limit.setter
    def last_rate_limit(self, value: RateLimitInfo | None) -> None:
        self.session.last_rate_limit = value

    def _published(self, uri: str, created_at: object) -> PublishedPost:
        return PublishedPost(
            external_id=uri,
            url=web_url(uri, self.session.handle),
            published_at=parse_time(created_at) or utcnow(),
        )

    async def create_post(self, request: PostRequest) -> PublishedPost:
        did = await self.session.ensure_did()
        parts = request.thread
        link_part = next(
            (i for i, part in enumerate(parts) if request.link and request.link in part), 0
        )
        first: PublishedPost | None = None
        root: dict[str, str] | None = None
        parent: dict[str, str] | None = None
        for index, text in enumerate(parts):
            record: dict[str, Any] = {
                "$type": POST_COLLECTION,
                "text": text,
                "createdAt": format_time(utcnow()),
            }
            if self.langs:
                record["langs"] = list(self.langs)
            facets = link_facets(text)
            if facets:
                record["facets"] = facets
            if index == 0 and request.image is not None:
                record["embed"] = await self._images_embed(request.image)
            elif request.link and index == link_part:
                record["embed"] = external_embed(request.link)
            if root is not None and parent is not None:
                record["reply"] = {"root": root, "parent": parent}
            created = await self._create_record(
                did, record_key(request.idempotency_key, index), record
            )
            parent = {"uri": str(created["uri"]), "cid": str(created["cid"])}
            root = root or parent
            first = first or self._published(parent["uri"], created.get("createdAt"))
        assert first is not None  # a request always has at least one part
        return first

    async def _images_embed(self, image: ImageAttachment) -> dict[str, Any]:
        uploaded = await self.session.call(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=image.data,
            content_type=image.mime_type,
        )
        return {
            "$type": "app.bsky.embed.images",
            "images": [{"image": uploaded["blob"], "alt": image.alt_text}],
        }

    async def _create_record(
        self, did: str, rkey: str, record: Mapping[str, Any]
    ) -> dict[str, Any]:
        """createRecord under ``rkey``; {uri, cid, createdAt} of our post, new or already there."""
        response = await self.session.send(
            "POST",
            "com.atproto.repo.createRecord",
            json={"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record},
        )
        if response.is_success:
            body = body_of(response, self.name)
            return {"uri": body["uri"], "cid": body["cid"], "createdAt": record["createdAt"]}
        if _is_conflict(response) or response.status_code >= 500:
            try:
                existing = await self._get_record(did, rkey)
            except ExternalError:
                existing = None
            if existing is not None:
                value = existing.get("value") or {}
                if value.get("text") != record["text"]:
                    raise PermanentExternalError(
                        f"{self.name}: record key {rkey} already holds a different post",
                        details={"uri": existing.get("uri")},
                    )
                return {
                    "uri": existing["uri"],
                    "cid": existing["cid"],
                    "createdAt": value.get("createdAt"),
                }
        raise_for_xrpc(response, self.name)
        raise TransientExternalError(f"{self.name}: unexpected answer {response.status_code}")

    async def _get_record(self, did: str, rkey: str) -> dict[str, Any] | None:
        response = await self.session.send(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": did, "collection": POST_COLLECTION, "rkey": rkey},
        )
        if response.status_code in (400, 404) and error_name(response) == "RecordNotFound":
            return None
        raise_for_xrpc(response, self.name)
        found: dict[str, Any] = body_of(response, self.name)
        return found

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        """The account's own latest posts (reposts left out), newest first, via getAuthorFeed."""
        did = await self.session.ensure_did()
        feed = await self.session.call(
            "GET",
            "app.bsky.feed.getAuthorFeed",
            params={"actor": did, "limit": max(1, min(limit, MAX_PAGE))},
        )
        posts: list[RemotePost] = []
        for item in feed.get("feed", []):
            post = item.get("post") or {}
            if item.get("reason") or (post.get("author") or {}).get("did") != did:
                continue
            record = post.get("record") or {}
            published = self._published(str(post["uri"]), record.get("createdAt"))
            posts.append(
                RemotePost(
                    external_id=published.external_id,
                    url=published.url,
                    text=str(record.get("text") or ""),
                    idempotency_key=None,
                    published_at=published.published_at,
                )
            )
        return posts

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """getRecord under the key's record key; failing that, the text among recent posts."""
        did = await self.session.ensure_did()
        existing = await self._get_record(did, record_key(idempotency_key))
        if existing is not None:
            value = existing.get("value") or {}
            published = self._published(str(existing["uri"]), value.get("createdAt"))
            return RemotePost(
                external_id=published.external_id,
                url=published.url,
                text=str(value.get("text") or ""),
                idempotency_key=idempotency_key,
                published_at=published.published_at,
            )
        for post in await self.recent_posts(MAX_PAGE):
            if _matches(post.text, text):
                return post
        return None

    async def engagement(self, external_id: str) -> Engagement:
        answer = await self.session.call(
            "GET", "app.bsky.feed.getPosts", params={"uris": [external_id]}
        )
        posts = answer.get("posts") or []
        if not posts:
            raise PermanentExternalError(f"{self.name}: post {external_id} not found")
        post = posts[0]
        return Engagement(
            likes=int(post.get("likeCount") or 0),
            reposts=int(post.get("repostCount") or 0),
            replies=int(post.get("replyCount") or 0),
        )

    async def verify(self) -> AccountIdentity:
        session = await self.session.call("GET", "com.atproto.server.getSession")
        did, handle = str(session["did"]), str(session.get("handle") or "")
        self.session.credentials.update({"did": did, "handle": handle})
        return AccountIdentity(
            id=did,
            handle=handle,
            display_name=handle,
            extra={"pds": self.session.base_url},
        )
