"""Fake Mastodon instance: statuses, media, read-back and engagement, answering as the real API.

Test credentials: bearer token ``mastodon-test-token`` for account ``109000000000000001``
(``@finagency``). Any other token gets 401 ``{"error": "The access token is invalid"}``.

Behaviour (``reference/platforms.md`` §4): ``POST /api/v1/statuses`` (JSON or form) answers 200
with a Status; the same ``Idempotency-Key`` within an hour returns the first status and posts
nothing; blank or over-long text is 422 ``{"error": "Validation failed: ..."}``. Every
authenticated answer carries ``X-RateLimit-Limit/Remaining/Reset`` (ISO-8601) counting down
per token; when exhausted, 429 ``{"error": "Too many requests"}`` until the window resets.
``POST /api/v2/media`` answers 202 while processing (``GET /api/v1/media/:id`` answers 206
``media_processing_polls`` times, then 200), or 200 when ``media_processing_polls`` is 0.

Test controls (all paths relative, so the app can be mounted at any prefix):

- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "path": "/api/v1/statuses"}``: the next
  ``times`` requests (whose path contains ``path``, if given) fail with that status, storing nothing.
- ``POST /__fake__/drop`` ``{"times": 1}``: the next ``times`` status creations are stored, then
  answered 500 (the client never learns the id).
- ``POST /__fake__/engage`` ``{"id": "...", "favourites": 3, "reblogs": 1, "replies": 2}``.
- ``POST /__fake__/clock`` ``{"advance_seconds": 3600}``: move the fake's clock forward.
- ``GET /__fake__/posts``: every stored status, oldest first.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from finagency.core.time import utcnow
from finagency.integrations.platforms.textrules import TextRules, rules_for

TEST_TOKEN = "mastodon-test-token"  # noqa: S105 - the fake's documented test credential
ACCOUNT_ID = "109000000000000001"
USERNAME = "finagency"
IDEMPOTENCY_TTL = timedelta(hours=1)
_URL = re.compile(r"https?://[^\s<>\"]+")


@dataclass
class _Failure:
    status: int
    times: int
    path: str = ""


@dataclass
class _State:
    limit: int
    window: timedelta
    rules: TextRules
    media_processing_polls: int
    offset: timedelta = timedelta(0)
    next_id: int = 110_000_000_000_000_000
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    media_pending: dict[str, int] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    windows: dict[str, tuple[datetime, int]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    drops: int = 0

    def now(self) -> datetime:
        return utcnow() + self.offset

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _content_html(text: str) -> str:
    """Status text as Mastodon renders it: paragraphs, line breaks, links with split spans."""

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        scheme, _, rest = url.partition("://")
        shown, hidden = rest[:30], rest[30:]
        return (
            f'<a href="{url}" rel="nofollow noopener" target="_blank">'
            f'<span class="invisible">{scheme}://</span><span class="ellipsis">{shown}</span>'
            f'<span class="invisible">{hidden}</span></a>'
        )

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    rendered = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph, quote=False)
        rendered.append("<p>" + _URL.sub(link, escaped).replace("\n", "<br />") + "</p>")
    return "".join(rendered)


def _base(request: Request) -> str:
    """The fake's own root URL, mount prefix included (``root_path`` under a Starlette Mount)."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root}"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(
    *,
    limit: int = 300,
    window_seconds: int = 300,
    max_characters: int = 500,
    media_processing_polls: int = 1,
) -> Starlette:
    base_rules = rules_for("mastodon")
    state = _State(
        limit=limit,
        window=timedelta(seconds=window_seconds),
        rules=TextRules(
            "mastodon",
            max_characters,
            base_rules.counting,
            base_rules.supports_threads,
            base_rules.link_length,
        ),
        media_processing_polls=media_processing_polls,
    )

    def account(request: Request) -> dict[str, Any]:
        base = _base(request)
        return {
            "id": ACCOUNT_ID,
            "username": USERNAME,
            "acct": USERNAME,
            "display_name": "Finagency Test",
            "url": f"{base}/@{USERNAME}",
        }

    def guard(request: Request) -> tuple[JSONResponse | None, dict[str, str]]:
        """Failure injection, token check and the rate-limit window, in the real order."""
        for failure in state.failures:
            if failure.times > 0 and failure.path in request.url.path:
                failure.times -= 1
                return _error(failure.status, f"Injected failure {failure.status}"), {}
        if request.headers.get("authorization") != f"Bearer {TEST_TOKEN}":
            return _error(401, "The access token is invalid"), {}
        now = state.now()
        started, used = state.windows.get(TEST_TOKEN, (now, 0))
        if now - started >= state.window:
            started, used = now, 0
        reset = _iso(started + state.window)
        if used >= state.limit:
            headers = {
                "X-RateLimit-Limit": str(state.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset,
            }
            return _error(429, "Too many requests", headers), headers
        state.windows[TEST_TOKEN] = (started, used + 1)
        return None, {
            "X-RateLimit-Limit": str(state.limit),
            "X-RateLimit-Remaining": str(state.limit - used - 1),
            "X-RateLimit-Reset": reset,
        }

    async def create_status(request: Request) -> Response:
        refused, headers = guard(request)
        if refused:
            return refused
        if request.headers.get("content-type", "").startswith("application/json"):
            body: dict[str, Any] = await request.json()
        else:
            async with request.form() as form:
                body = {key: value for key, value in form.items() if isinstance(value, str)}
                body["media_ids"] = [v for v in form.getlist("media_ids[]") if isinstance(v, str)]
        key = request.headers.get("idempotency-key")
        now = state.now()
        if key and key in state.idempotency:
            status_id, stored_at = state.idempotency[key]
            if now - stored_at < IDEMPOTENCY_TTL:
                return JSONResponse(state.statuses[status_id], headers=headers)
        text = str(body.get("status") or "")
        media_ids = [str(m) for m in body.get("media_ids") or []]
        if not text.strip() and not media_ids:
            return _error(422, "Validation failed: Text can't be blank", headers)
        if state.rules.count(text) > state.rules.max_length:
            message = (
                f"Validation failed: Text character limit of {state.rules.max_length} exceeded"
            )
            return _error(422, message, headers)
        if any(m not in state.media for m in media_ids):
            return _error(422, "Validation failed: Media attachments are invalid", headers)
        reply_to = body.get("in_reply_to_id")
        if reply_to is not None and str(reply_to) not in state.statuses:
            return _error(404, "Record not found", headers)
        status_id = state.new_id()
        base = _base(request)
        status = {
            "id": status_id,
            "created_at": _iso(now),
            "in_reply_to_id": str(reply_to) if reply_to is not None else None,
            "in_reply_to_account_id": ACCOUNT_ID if reply_to is not None else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": str(body.get("visibility") or "public"),
            "language": body.get("language") or "en",
            "uri": f"{base}/users/{USERNAME}/statuses/{status_id}",
            "url": f"{base}/@{USERNAME}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "content": _content_html(text),
            "reblog": None,
            "account": account(request),
            "media_attachments": [state.media[m] for m in media_ids],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        state.statuses[status_id] = status
        if reply_to is not None:
            state.statuses[str(reply_to)]["replies_count"] += 1
        if key:
            state.idempotency[key] = (status_id, now)
        if state.drops > 0:
            state.drops -= 1
            return _error(500, "We're sorry, but something went wrong on our end.")
        return JSONResponse(status, headers=headers)

    async def get_status(request: Request) -> Response:
        refused, headers = guard(request)
        if refused:
            return refused
        status = state.statuses.get(request.path_params["id"])
        if status is None:
            return _error(404, "Record not found", headers)
        return JSONResponse(status, headers=headers)

    async def account_statuses(request: Request) -> Response:
        refused, headers = guard(request)
        if refused:
            return refused
        if request.path_params["id"] != ACCOUNT_ID:
            return _error(404, "Record not found", headers)
        limit = min(int(request.query_params.get("limit", "20")), 40)
        newest_first = sorted(state.statuses.values(), key=lambda s: int(s["id"]), reverse=True)
        return JSONResponse(newest_first[:limit], headers=headers)

    async def verify_credentials(request: Request) -> Response:
        refused, headers = guard(request)
        if refused:
            return refused
        return JSONResponse(account(request), headers=headers)

    async def upload_media(request: Request) -> Response:
        refused, headers = guard(request)
        if refused:
            return refused
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return _error(422, "Validation failed: File can't be blank", headers)
            await upload.read()
            description = form.get("description")
        media_id = state.new_id()
        ready = state.media_processing_polls == 0
        state.media[media_id] = {
            "id": media_id,
            "type": "image",
            "url": f"{_base(request)}/media/{media_id}" if ready else None,
            "description": description if isinstance(description, str) else None,
        }
        state.media_pending[media_id] = state.media_processing_polls
        return JSONResponse(
            state.media[media_id], status_code=200 if ready else 202, headers=headers
        )

    async def get_media(request: Request) -> Response:
        refused, headers = guard(request)
        if refused:
            return refused
        media = state.media.get(request.path_params["id"])
        if media is None:
            return _error(404, "Record not found", headers)
        if state.media_pending[media["id"]] > 0:
            state.media_pending[media["id"]] -= 1
            return JSONResponse(media, status_code=206, headers=headers)
        media["url"] = f"{_base(request)}/media/{media['id']}"
        return JSONResponse(media, headers=headers)

    async def instance(request: Request) -> Response:
        statuses = {"max_characters": state.rules.max_length, "characters_reserved_per_url": 23}
        return JSONResponse({"configuration": {"statuses": statuses}})

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
        status = state.statuses[str(body["id"])]
        for name in ("favourites", "reblogs", "replies"):
            if name in body:
                status[f"{name}_count"] = int(body[name])
        return JSONResponse(status)

    async def fake_clock(request: Request) -> Response:
        state.offset += timedelta(seconds=float((await request.json())["advance_seconds"]))
        return JSONResponse({"now": _iso(state.now())})

    async def fake_posts(request: Request) -> Response:
        return JSONResponse(sorted(state.statuses.values(), key=lambda s: int(s["id"])))

    return Starlette(
        routes=[
            Route("/api/v1/statuses", create_status, methods=["POST"]),
            Route("/api/v1/statuses/{id}", get_status, methods=["GET"]),
            Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
            Route("/api/v1/accounts/{id}/statuses", account_statuses, methods=["GET"]),
            Route("/api/v2/media", upload_media, methods=["POST"]),
            Route("/api/v1/media/{id}", get_media, methods=["GET"]),
            Route("/api/v2/instance", instance, methods=["GET"]),
            Route("/__fake__/fail", fake_fail, methods=["POST"]),
            Route("/__fake__/drop", fake_drop, methods=["POST"]),
            Route("/__fake__/engage", fake_engage, methods=["POST"]),
            Route("/__fake__/clock", fake_clock, methods=["POST"]),
            Route("/__fake__/posts", fake_posts, methods=["GET"]),
        ]
    )
