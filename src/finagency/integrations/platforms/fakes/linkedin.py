"""A fake LinkedIn Posts API in memory: posts, images, read-back, metrics, OAuth, daily quotas.

Test credentials (mount anywhere; every path is relative to the mount point):

- access token ``li-test-access-token`` for member ``urn:li:person:fk7Q2xP0aB`` (Ada Fake), who
  administers ``urn:li:organization:5515715``; ``li-expired-access-token`` is always 401.
- refresh token ``li-test-refresh-token`` with client id ``li-test-client-id`` and secret
  ``li-test-client-secret`` (form fields) at ``POST /oauth/v2/accessToken``; the code
  ``li-test-code`` is accepted for ``grant_type=authorization_code``. Tokens last 60 days.
- ``LinkedIn-Version`` must be YYYYMM and not older than ``min_version`` (426 otherwise);
  ``X-Restli-Protocol-Version: 2.0.0`` is required on ``/rest/``.

Answers as LinkedIn does: 201 with an empty body and the URN in ``x-restli-id``; little-format
commentary (an unescaped reserved character silently cuts the post there); 422 for duplicates
and over-long text; 429 without headers once the daily post quota is spent.

Test controls: ``POST /__fake__/fail`` ``{"status": 503, "times": 1, "mode": "status"|"after"|
"drop", "method": "POST", "path": "/rest/posts"}`` ("after" acts then answers ``status``; "drop"
acts then drops the connection), ``POST /__fake__/expire-tokens``, ``POST /__fake__/engage``
``{"urn": ..., "likes": 3, "comments": 1, "shares": 0, "impressions": 50, "clicks": 2}`` and
``GET /__fake__/state``.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Published test credentials of the fake, not secrets.
TEST_ACCESS_TOKEN = "li-test-access-token"  # noqa: S105
EXPIRED_ACCESS_TOKEN = "li-expired-access-token"  # noqa: S105
TEST_REFRESH_TOKEN = "li-test-refresh-token"  # noqa: S105
TEST_CLIENT_ID = "li-test-client-id"
TEST_CLIENT_SECRET = "li-test-client-secret"  # noqa: S105
TEST_CODE = "li-test-code"
TEST_MEMBER_ID = "fk7Q2xP0aB"
TEST_PERSON_URN = f"urn:li:person:{TEST_MEMBER_ID}"
TEST_ORGANIZATION_URN = "urn:li:organization:5515715"
TOKEN_SECONDS = 60 * 24 * 60 * 60
MAX_COMMENTARY = 3000
_RESERVED = "\\|{}@[]()<>#*_~"
_VERSION = re.compile(r"^\d{6}(\.\d{2})?$")
_MODES = ("status", "after", "drop")
Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Post:
    urn: str
    author: str
    commentary: str  # as sent, in little format
    created_ms: int
    content: dict[str, Any] | None = None
    stats: dict[str, int] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.urn,
            "author": self.author,
            "commentary": self.commentary,
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
            "createdAt": self.created_ms,
            "lastModifiedAt": self.created_ms,
            "publishedAt": self.created_ms,
        }
        if self.content is not None:
            body["content"] = self.content
        return body


@dataclass
class Fault:
    status: int
    times: int
    mode: str
    method: str | None
    path: str | None

    def matches(self, request: Request) -> bool:
        path_ok = self.path is None or request.url.path.endswith(self.path)
        return path_ok and self.method in (None, request.method)


def error(status: int, message: str, code: str, service_code: int = 0) -> JSONResponse:
    body = {"status": status, "serviceErrorCode": service_code, "code": code, "message": message}
    return JSONResponse(body, status)


def plain_text(commentary: str) -> str:
    """What LinkedIn shows: escapes removed, and the text cut at the first unescaped reserved char."""
    out: list[str] = []
    chars = iter(commentary)
    for char in chars:
        if char == "\\":
            out.append(next(chars, ""))
        elif char in _RESERVED:
            break
        else:
            out.append(char)
    return "".join(out)


class FakeLinkedIn:
    """The in-memory state and the endpoints over it."""

    def __init__(self, daily_posts: int, min_version: str, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.daily_posts = daily_posts
        self.min_version = min_version
        self.posts: dict[str, Post] = {}
        self.images: dict[str, bool] = {}  # image URN -> uploaded
        self.uploads: dict[str, str] = {}  # upload key -> image URN
        self.access_tokens: dict[str, float] = {TEST_ACCESS_TOKEN: float("inf")}
        self.refresh_tokens = {TEST_REFRESH_TOKEN}
        self.faults: list[Fault] = []
        self.posted_today: tuple[int, int] = (0, 0)  # (day number, posts)
        self._ids = itertools.count(7300000000000000001)

    def api(self, handler: Handler, *, versioned: bool = True, quota: bool = False) -> Handler:
        async def endpoint(request: Request) -> Response:
            fault = self._take_fault(request)
            if fault is not None and fault.mode == "status":
                return error(fault.status, "Injected failure", "FAKE_FAILURE")
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if self.access_tokens.get(token, 0.0) <= self.clock():
                return error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
            if versioned and (refusal := self._check_headers(request)) is not None:
                return refusal
            if quota and not self._consume_quota():
                message = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
                return error(429, message, "TOO_MANY_REQUESTS", 101)
            response = await handler(request)
            if fault is not None and fault.mode == "drop":
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if fault is not None:
                return error(fault.status, "Injected failure after acting", "FAKE_FAILURE")
            return response

        return endpoint

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _check_headers(self, request: Request) -> Response | None:
        version = request.headers.get("linkedin-version")
        if not version:
            message = "A version must be present. Please specify a version by adding the LinkedIn-Version header."
            return error(400, message, "VERSION_MISSING")
        if not _VERSION.match(version):
            return error(400, f"Invalid version format {version}", "INVALID_VERSION")
        if version[:6] < self.min_version:
            return error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return error(400, "X-Restli-Protocol-Version 2.0.0 is required", "ILLEGAL_ARGUMENT")
        return None

    def _consume_quota(self) -> bool:
        day = int(self.clock() // 86400)
        current, used = self.posted_today
        used = used if current == day else 0
        if used >= self.daily_posts:
            return False
        self.posted_today = (day, used + 1)
        return True

    def _new_id(self) -> str:
        return str(next(self._ids))

    def _may_post_as(self, author: object) -> bool:
        return author in (TEST_PERSON_URN, TEST_ORGANIZATION_URN)

    async def create_post(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("commentary", ""), str):
            return error(400, "Invalid request body", "ILLEGAL_ARGUMENT", 100)
        for name in ("author", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                return error(
                    422, f"/{name} :: field is required but not found", "UNPROCESSABLE_ENTITY"
                )
        if not self._may_post_as(body["author"]):
            message = "Not enough permissions to access: partnerApiPostsExternal.CREATE.20240501"
            return error(403, message, "ACCESS_DENIED", 100)
        commentary = plain_text(body.get("commentary", ""))
        if len(commentary.encode("utf-16-le")) // 2 > MAX_COMMENTARY:
            message = f"/commentary :: length of text exceeds {MAX_COMMENTARY}"
            return error(422, message, "UNPROCESSABLE_ENTITY")
        for post in self.posts.values():
            if post.author == body["author"] and plain_text(post.commentary) == commentary:
                message = f"Content is a duplicate of {post.urn}"
                return error(422, message, "DUPLICATE_POST")
        media = (body.get("content") or {}).get("media")
        if media is not None and not self.images.get(str(media.get("id"))):
            return error(400, "Image is not uploaded or unknown", "ILLEGAL_ARGUMENT", 100)
        urn = f"urn:li:share:{self._new_id()}"
        # Stored as LinkedIn keeps it: what survives little-format parsing, re-escaped.
        kept = body.get("commentary", "")[: _kept_length(body.get("commentary", ""))]
        created = int(self.clock() * 1000)
        self.posts[urn] = Post(urn, body["author"], kept, created, body.get("content"))
        return Response(status_code=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

    async def find_by_author(self, request: Request) -> Response:
        query = request.query_params
        if query.get("q") != "author" or not query.get("author"):
            return error(400, "Invalid query parameters", "ILLEGAL_ARGUMENT", 100)
        count = int(query.get("count", "10"))
        mine = [post for post in self.posts.values() if post.author == query["author"]]
        mine.sort(key=lambda post: (post.created_ms, post.urn), reverse=True)
        elements = [post.render() for post in mine[:count]]
        paging = {"start": 0, "count": count, "links": [], "total": len(mine)}
        return JSONResponse({"paging": paging, "elements": elements})

    async def initialize_upload(self, request: Request) -> Response:
        body = await _json(request)
        owner = (body or {}).get("initializeUploadRequest", {}).get("owner")
        if request.query_params.get("action") != "initializeUpload" or not self._may_post_as(owner):
            return error(400, "Invalid initializeUpload request", "ILLEGAL_ARGUMENT", 100)
        image, key = f"urn:li:image:D4E{self._new_id()}", f"up{self._new_id()}"
        root = request.scope.get("root_path", "")  # the mount point, in a combined runner
        self.images[image], self.uploads[key] = False, image
        url = str(request.url.replace(path=f"{root}/dms-uploads/{key}", query=""))
        expires = int(self.clock() * 1000) + 86_400_000
        return JSONResponse(
            {"value": {"uploadUrlExpiresAt": expires, "uploadUrl": url, "image": image}}
        )

    async def upload(self, request: Request) -> Response:
        image = self.uploads.pop(request.path_params["key"], None)
        if image is None or not await request.body():
            return error(400, "Unknown or empty upload", "ILLEGAL_ARGUMENT")
        self.images[image] = True
        return Response(status_code=201)

    async def social_actions(self, request: Request) -> Response:
        post = self.posts.get(request.path_params["urn"])
        if post is None:
            return error(404, "Not Found", "NOT_FOUND")
        likes, comments = post.stats.get("likes", 0), post.stats.get("comments", 0)
        summary = {"totalLikes": likes, "aggregatedTotalLikes": likes, "likedByCurrentUser": False}
        counts = {"totalFirstLevelComments": comments, "aggregatedTotalComments": comments}
        body = {"$URN": f"urn:li:socialActions:{post.urn}", "target": post.urn}
        return JSONResponse({**body, "likesSummary": summary, "commentsSummary": counts})

    async def share_statistics(self, request: Request) -> Response:
        query = request.query_params
        organization = query.get("organizationalEntity")
        if query.get("q") != "organizationalEntity" or organization != TEST_ORGANIZATION_URN:
            return error(403, "Not enough permissions to access organization", "ACCESS_DENIED", 100)
        wanted = re.findall(r"urn:li:\w+:\d+", query.get("shares", "") + query.get("ugcPosts", ""))
        elements = []
        for urn in wanted:
            post = self.posts.get(urn)
            if post is None:
                continue
            s = post.stats
            totals = {
                "impressionCount": s.get("impressions", 0),
                "uniqueImpressionsCount": s.get("impressions", 0),
                "likeCount": s.get("likes", 0),
                "commentCount": s.get("comments", 0),
                "shareCount": s.get("shares", 0),
                "clickCount": s.get("clicks", 0),
                "engagement": 0.0,
            }
            key = "share" if urn.startswith("urn:li:share:") else "ugcPost"
            elements.append(
                {"organizationalEntity": organization, key: urn, "totalShareStatistics": totals}
            )
        return JSONResponse(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}
        )

    async def userinfo(self, request: Request) -> Response:
        names = {"name": "Ada Fake", "given_name": "Ada", "family_name": "Fake"}
        locale = {"country": "US", "language": "en"}
        body = {"sub": TEST_MEMBER_ID, "email_verified": True, "locale": locale, **names}
        return JSONResponse({**body, "email": "ada@example.com"})

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if (
            form.get("client_id") != TEST_CLIENT_ID
            or form.get("client_secret") != TEST_CLIENT_SECRET
        ):
            failed = {
                "error": "invalid_client",
                "error_description": "Client authentication failed",
            }
            return JSONResponse(failed, 401)
        grant = form.get("grant_type")
        refused = (
            grant == "refresh_token" and form.get("refresh_token") not in self.refresh_tokens
        ) or (grant == "authorization_code" and form.get("code") != TEST_CODE)
        if grant not in ("refresh_token", "authorization_code") or refused:
            description = (
                "The provided authorization grant or refresh token is invalid, expired or revoked"
            )
            return JSONResponse({"error": "invalid_request", "error_description": description}, 400)
        access = f"li-access-{self._new_id()}"
        self.access_tokens[access] = self.clock() + TOKEN_SECONDS
        scope = "openid,profile,w_member_social"
        body = {"access_token": access, "expires_in": TOKEN_SECONDS, "scope": scope}
        # LinkedIn keeps the refresh token; its 365-day lifetime does not restart.
        kept = {"refresh_token": TEST_REFRESH_TOKEN, "refresh_token_expires_in": 31_000_000}
        return JSONResponse({**body, **kept})

    async def fail(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or body.get("mode", "status") not in _MODES:
            return JSONResponse({"error": "bad fault"}, 400)
        mode, method, path = str(body.get("mode", "status")), body.get("method"), body.get("path")
        status, times = int(body.get("status", 503)), int(body.get("times", 1))
        self.faults.append(Fault(status, times, mode, method, path))
        return JSONResponse({"faults": len(self.faults)})

    async def expire_tokens(self, request: Request) -> Response:
        self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)
        return JSONResponse({"expired": len(self.access_tokens)})

    async def engage(self, request: Request) -> Response:
        body = await _json(request)
        post = self.posts.get(str(body.get("urn"))) if isinstance(body, dict) else None
        if post is None or not isinstance(body, dict):
            return JSONResponse({"error": "no such post"}, 404)
        post.stats.update({k: int(v) for k, v in body.items() if k != "urn"})
        return JSONResponse({"urn": post.urn, "stats": post.stats})

    async def state(self, request: Request) -> Response:
        posts = [
            {**post.render(), "text": plain_text(post.commentary)} for post in self.posts.values()
        ]
        return JSONResponse({"posts": posts, "images": self.images})


def _kept_length(commentary: str) -> int:
    """How much of ``commentary`` survives: up to the first unescaped reserved character."""
    index = 0
    while index < len(commentary):
        if commentary[index] == "\\":
            index += 2
        elif commentary[index] in _RESERVED:
            return index
        else:
            index += 1
    return len(commentary)


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def create_app(
    *, daily_posts: int = 150, min_version: str = "202501", clock: Callable[[], float] = time.time
) -> Starlette:
    """A fresh fake; ``daily_posts`` is the member's daily quota for creating posts."""
    fake = FakeLinkedIn(daily_posts, min_version, clock)
    routes = [
        Route("/rest/posts", fake.api(fake.create_post, quota=True), methods=["POST"]),
        Route("/rest/posts", fake.api(fake.find_by_author), methods=["GET"]),
        Route("/rest/images", fake.api(fake.initialize_upload), methods=["POST"]),
        Route("/dms-uploads/{key}", fake.api(fake.upload, versioned=False), methods=["PUT"]),
        Route("/rest/socialActions/{urn}", fake.api(fake.social_actions), methods=["GET"]),
        Route(
            "/rest/organizationalEntityShareStatistics",
            fake.api(fake.share_statistics),
            methods=["GET"],
        ),
        Route("/v2/userinfo", fake.api(fake.userinfo, versioned=False), methods=["GET"]),
        Route("/oauth/v2/accessToken", fake.token, methods=["POST"]),
        Route("/__fake__/fail", fake.fail, methods=["POST"]),
        Route("/__fake__/expire-tokens", fake.expire_tokens, methods=["POST"]),
        Route("/__fake__/engage", fake.engage, methods=["POST"]),
        Route("/__fake__/state", fake.state, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.fake = fake
    return app
