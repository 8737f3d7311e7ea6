"""Fake Bluesky PDS: sessions, post records, blobs, feeds and counts, answering as the real XRPC API.

Test credentials: identifier ``finagency.test`` (or the DID ``did:plc:fakefinagency234567abcde``
or ``finagency@example.test``) with app password ``abcd-efgh-ijkl-mnop``. A seeded session is
also valid: access JWT ``test-expired-access-jwt`` (always answers 400 ``ExpiredToken``) with
refresh JWT ``test-refresh-jwt`` (good for one refreshSession). Minted access tokens live 120
minutes, refresh tokens 90 days, on the fake's clock; refreshSession revokes the old refresh token.

Behaviour (``reference/platforms.md`` §5): errors are ``{"error": Name, "message": ...}`` — 401
``AuthMissing`` without a bearer, 400 ``InvalidToken``/``ExpiredToken``, 401
``AuthenticationRequired`` for a wrong password, 400 ``InvalidRequest`` for an invalid record
(over 300 graphemes or 3000 UTF-8 bytes, facet outside the text, non-TID rkey, unknown blob),
400 ``RecordNotFound`` from getRecord. A createRecord whose ``rkey`` already exists answers as the
reference PDS does today, 500 ``InternalServerError`` (``duplicate_rkey_status=409`` answers
409 ``RecordAlreadyExists`` instead). Every answer carries ``RateLimit-Limit/Remaining/Reset``
(epoch seconds) and ``RateLimit-Policy``; an exhausted window answers 429 ``RateLimitExceeded``
(createSession has its own 30 per 5 minutes).

Test controls (relative paths, so the app can be mounted at any prefix):

- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "path": "createRecord"}``: the next
  ``times`` XRPC calls (whose path contains ``path``, if given) fail, storing nothing.
- ``POST /__fake__/drop`` ``{"times": 1}``: the next ``times`` createRecord calls store the record,
  then answer 500.
- ``POST /__fake__/engage`` ``{"uri": "at://...", "likes": 3, "reposts": 1, "replies": 2}``.
- ``POST /__fake__/expire``: every access token handed out so far is expired.
- ``POST /__fake__/clock`` ``{"advance_seconds": 7200}``: move the fake's clock forward.
- ``GET /__fake__/posts``: every stored record ``{uri, cid, value, ...}``, oldest first.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finagency.core.time import utcnow
from finagency.integrations.platforms.bluesky.records import (
    TID_PATTERN,
    AtUri,
    encode_tid,
    format_time,
)
from finagency.integrations.platforms.textrules import rules_for

HANDLE = "finagency.test"
DID = "did:plc:fakefinagency234567abcde"
EMAIL = "finagency@example.test"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 - the fake's documented test credential
EXPIRED_ACCESS_JWT = "test-expired-access-jwt"
SEED_REFRESH_JWT = "test-refresh-jwt"
COLLECTION = "app.bsky.feed.post"
ACCESS_TTL = timedelta(minutes=120)
REFRESH_TTL = timedelta(days=90)
_ERROR_NAMES = {400: "InvalidRequest", 401: "AuthMissing", 429: "RateLimitExceeded"}


@dataclass
class _Failure:
    status: int
    times: int
    path: str = ""


@dataclass
class _Window:
    limit: int
    seconds: int
    started: datetime | None = None
    used: int = 0


@dataclass
class _State:
    general: _Window
    sessions: _Window
    duplicate_rkey_status: int
    offset: timedelta = timedelta(0)
    tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, int] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    drops: int = 0
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> datetime:
        return utcnow() + self.offset


def _error(status: int, name: str, message: str, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse({"error": name, "message": message}, status_code=status, headers=headers)


def _cid(data: bytes) -> str:
    return "bafyrei" + hashlib.sha256(data).hexdigest()[:52]


def _take(window: _Window, now: datetime) -> tuple[bool, dict[str, str]]:
    """Count one request against ``window``; False when it is exhausted."""
    if window.started is None or (now - window.started).total_seconds() >= window.seconds:
        window.started, window.used = now, 0
    allowed = window.used < window.limit
    window.used += int(allowed)
    reset = int(window.started.timestamp()) + window.seconds
    return allowed, {
        "RateLimit-Limit": str(window.limit),
        "RateLimit-Remaining": str(window.limit - window.used),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{window.limit};w={window.seconds}",
    }


def create_app(
    *,
    limit: int = 3000,
    window_seconds: int = 300,
    session_limit: int = 30,
    duplicate_rkey_status: int = 500,
) -> Starlette:
    state = _State(
        general=_Window(limit, window_seconds),
        sessions=_Window(session_limit, 300),
        duplicate_rkey_status=duplicate_rkey_status,
    )
    state.tokens[EXPIRED_ACCESS_JWT] = ("access", state.now() - timedelta(seconds=1))
    state.tokens[SEED_REFRESH_JWT] = ("refresh", state.now() + REFRESH_TTL)
    rules = rules_for("bluesky")

    def guard(
        request: Request, *, auth: bool, window: _Window | None = None
    ) -> tuple[JSONResponse | None, dict[str, str], str]:
        """Failure injection, rate limit, then the bearer check; returns (refusal, headers, kind)."""
        for failure in state.failures:
            if failure.times > 0 and failure.path in request.url.path:
                failure.times -= 1
                name = _ERROR_NAMES.get(failure.status, "InternalServerError")
                return _error(failure.status, name, "Injected failure", {}), {}, ""
        allowed, headers = _take(window or state.general, state.now())
        if not allowed:
            refusal = _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
            return refusal, headers, ""
        if not auth:
            return None, headers, ""
        bearer = request.headers.get("authorization", "")
        if not bearer.startswith("Bearer "):
            return _error(401, "AuthMissing", "Authentication Required", headers), headers, ""
        token = bearer.removeprefix("Bearer ")
        if token not in state.tokens:
            return _error(400, "InvalidToken", "Token could not be verified", headers), headers, ""
        kind, expires_at = state.tokens[token]
        if expires_at <= state.now():
            return _error(400, "ExpiredToken", "Token has expired", headers), headers, ""
        return None, headers, kind

    def mint(headers: dict[str, str]) -> JSONResponse:
        number = next(state.serial)
        access, refresh = f"fake-access-{number}", f"fake-refresh-{number}"
        state.tokens[access] = ("access", state.now() + ACCESS_TTL)
        state.tokens[refresh] = ("refresh", state.now() + REFRESH_TTL)
        body = {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID}
        return JSONResponse({**body, "email": EMAIL, "active": True}, headers=headers)

    def access_only(kind: str, headers: dict[str, str]) -> JSONResponse | None:
        if kind != "access":
            return _error(400, "InvalidToken", "Invalid token type", headers)
        return None

    def post_view(stored: dict[str, Any]) -> dict[str, Any]:
        counts = ("replyCount", "repostCount", "likeCount", "quoteCount", "bookmarkCount")
        return {
            "uri": stored["uri"],
            "cid": stored["cid"],
            "author": {"did": DID, "handle": HANDLE, "displayName": "Finagency Test"},
            "record": stored["value"],
            "indexedAt": stored["indexedAt"],
            **{name: stored[name] for name in counts},
        }

    async def create_session(request: Request) -> Response:
        refused, headers, _ = guard(request, auth=False, window=state.sessions)
        if refused:
            return refused
        body = await request.json()
        if (
            body.get("identifier") not in (HANDLE, DID, EMAIL)
            or body.get("password") != APP_PASSWORD
        ):
            message = "Invalid identifier or password"
            return _error(401, "AuthenticationRequired", message, headers)
        return mint(headers)

    async def refresh_session(request: Request) -> Response:
        refused, headers, kind = guard(request, auth=True)
        if refused:
            return refused
        if kind != "refresh":
            return _error(400, "InvalidToken", "Invalid token type", headers)
        del state.tokens[request.headers["authorization"].removeprefix("Bearer ")]
        return mint(headers)

    async def get_session(request: Request) -> Response:
        refused, headers, kind = guard(request, auth=True)
        if refused or (refused := access_only(kind, headers)):
            return refused
        body = {"handle": HANDLE, "did": DID, "email": EMAIL, "active": True}
        return JSONResponse(body, headers=headers)

    async def describe_repo(request: Request) -> Response:
        refused, headers, _ = guard(request, auth=False)
        if refused:
            return refused
        if request.query_params.get("repo") not in (HANDLE, DID):
            return _error(400, "RepoNotFound", "Could not find repo", headers)
        body = {"handle": HANDLE, "did": DID, "collections": [COLLECTION], "handleIsCorrect": True}
        return JSONResponse({**body, "didDoc": {"id": DID}}, headers=headers)

    async def upload_blob(request: Request) -> Response:
        refused, headers, kind = guard(request, auth=True)
        if refused or (refused := access_only(kind, headers)):
            return refused
        data = await request.body()
        cid = _cid(data)
        state.blobs[cid] = len(data)
        mime = request.headers.get("content-type", "application/octet-stream")
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}
        return JSONResponse({"blob": blob}, headers=headers)

    def invalid_record(record: dict[str, Any]) -> str | None:
        text = record.get("text")
        if record.get("$type") != COLLECTION or not isinstance(text, str):
            return "Invalid app.bsky.feed.post record: Record/text must be a string"
        if not isinstance(record.get("createdAt"), str):
            return 'Invalid app.bsky.feed.post record: Record must have the property "createdAt"'
        if rules.count(text) > rules.max_length:
            return "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
        size = len(text.encode("utf-8"))
        if size > 3000:
            return "Invalid app.bsky.feed.post record: Record/text must not be longer than 3000 characters"
        for facet in record.get("facets") or []:
            index = facet.get("index") or {}
            if not 0 <= index.get("byteStart", -1) < index.get("byteEnd", -1) <= size:
                return "Invalid app.bsky.feed.post record: facet index outside the text"
        embed = record.get("embed") or {}
        for image in embed.get("images") or []:
            if image.get("image", {}).get("ref", {}).get("$link") not in state.blobs:
                return "Could not find blob"
            if not isinstance(image.get("alt"), str):
                return 'Invalid app.bsky.feed.post record: Record/embed/images/0 must have the property "alt"'
        return None

    async def create_record(request: Request) -> Response:
        refused, headers, kind = guard(request, auth=True)
        if refused or (refused := access_only(kind, headers)):
            return refused
        body = await request.json()
        if body.get("repo") not in (DID, HANDLE) or body.get("collection") != COLLECTION:
            return _error(400, "InvalidRequest", "Invalid repo or collection", headers)
        record, rkey = body.get("record") or {}, str(body.get("rkey") or "")
        if not rkey:  # the server picks a TID from its clock
            rkey = encode_tid(int(state.now().timestamp() * 1_000_000), next(state.serial))
        if not TID_PATTERN.match(rkey):
            return _error(400, "InvalidRequest", f"Invalid record key: {rkey}", headers)
        problem = invalid_record(record)
        if problem:
            return _error(400, "InvalidRequest", problem, headers)
        uri = str(AtUri(DID, COLLECTION, rkey))
        if uri in state.records:
            if state.duplicate_rkey_status == 500:
                return _error(500, "InternalServerError", "Internal Server Error", headers)
            status = state.duplicate_rkey_status
            return _error(status, "RecordAlreadyExists", f"Record already exists: {uri}", headers)
        cid = _cid(repr(sorted(record.items())).encode())
        state.records[uri] = {
            "uri": uri,
            "cid": cid,
            "value": record,
            "indexedAt": format_time(state.now()),
            **dict.fromkeys(
                ("replyCount", "repostCount", "likeCount", "quoteCount", "bookmarkCount"), 0
            ),
        }
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        if parent in state.records:
            state.records[parent]["replyCount"] += 1
        if state.drops > 0:
            state.drops -= 1
            return _error(500, "InternalServerError", "Internal Server Error", headers)
        commit = {"cid": _cid(uri.encode()), "rev": rkey}
        body = {"uri": uri, "cid": cid, "commit": commit, "validationStatus": "valid"}
        return JSONResponse(body, headers=headers)

    async def get_record(request: Request) -> Response:
        refused, headers, _ = guard(request, auth=False)
        if refused:
            return refused
        query = request.query_params
        uri = f"at://{DID}/{query.get('collection')}/{query.get('rkey')}"
        stored = state.records.get(uri) if query.get("repo") in (DID, HANDLE) else None
        if stored is None:
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}", headers)
        body = {"uri": stored["uri"], "cid": stored["cid"], "value": stored["value"]}
        return JSONResponse(body, headers=headers)

    async def author_feed(request: Request) -> Response:
        refused, headers, _ = guard(request, auth=True)
        if refused:
            return refused
        if request.query_params.get("actor") not in (DID, HANDLE):
            return _error(400, "InvalidRequest", "Profile not found", headers)
        limit = min(int(request.query_params.get("limit", "50")), 100)
        newest = list(reversed(state.records.values()))[:limit]
        return JSONResponse({"feed": [{"post": post_view(s)} for s in newest]}, headers=headers)

    async def get_posts(request: Request) -> Response:
        refused, headers, _ = guard(request, auth=True)
        if refused:
            return refused
        uris = request.query_params.getlist("uris")
        if len(uris) > 25:
            return _error(
                400, "InvalidRequest", "uris must not have more than 25 elements", headers
            )
        posts = [post_view(state.records[u]) for u in uris if u in state.records]
        return JSONResponse({"posts": posts}, headers=headers)

    async def fake_fail(request: Request) -> Response:
        body = await request.json()
        failure = _Failure(int(body["status"]), int(body.get("times", 1)), body.get("path", ""))
        state.failures.append(failure)
        return JSONResponse({"ok": True})

    async def fake_drop(request: Request) -> Response:
        state.drops += int((await request.json()).get("times", 1))
        return JSONResponse({"ok": True})

    async def fake_engage(request: Request) -> Response:
        body = await request.json()
        stored = state.records[str(body["uri"])]
        for name in ("likes", "reposts", "replies", "quotes"):
            if name in body:
                stored[f"{name[:-1]}Count"] = int(body[name])
        return JSONResponse(post_view(stored))

    async def fake_expire(request: Request) -> Response:
        for token, (kind, _) in list(state.tokens.items()):
            if kind == "access":
                state.tokens[token] = (kind, state.now())
        return JSONResponse({"ok": True})

    async def fake_clock(request: Request) -> Response:
        state.offset += timedelta(seconds=float((await request.json())["advance_seconds"]))
        return JSONResponse({"now": format_time(state.now())})

    async def fake_posts(request: Request) -> Response:
        return JSONResponse(list(state.records.values()))

    xrpc = "/xrpc/"
    return Starlette(
        routes=[
            Route(xrpc + "com.atproto.server.createSession", create_session, methods=["POST"]),
            Route(xrpc + "com.atproto.server.refreshSession", refresh_session, methods=["POST"]),
            Route(xrpc + "com.atproto.server.getSession", get_session, methods=["GET"]),
            Route(xrpc + "com.atproto.repo.describeRepo", describe_repo, methods=["GET"]),
            Route(xrpc + "com.atproto.repo.uploadBlob", upload_blob, methods=["POST"]),
            Route(xrpc + "com.atproto.repo.createRecord", create_record, methods=["POST"]),
            Route(xrpc + "com.atproto.repo.getRecord", get_record, methods=["GET"]),
            Route(xrpc + "app.bsky.feed.getAuthorFeed", author_feed, methods=["GET"]),
            Route(xrpc + "app.bsky.feed.getPosts", get_posts, methods=["GET"]),
            Route("/__fake__/fail", fake_fail, methods=["POST"]),
            Route("/__fake__/drop", fake_drop, methods=["POST"]),
            Route("/__fake__/engage", fake_engage, methods=["POST"]),
            Route("/__fake__/expire", fake_expire, methods=["POST"]),
            Route("/__fake__/clock", fake_clock, methods=["POST"]),
            Route("/__fake__/posts", fake_posts, methods=["GET"]),
        ]
    )
