"""A fake X API v2 in memory: posts, threads, media, read-back, metrics, OAuth 2.0, rate limits.

Test credentials (mount anywhere; every path is relative to the mount point):

- access token ``x-test-access-token`` for user ``1500000000000000001`` (@finagency_fake);
  ``x-expired-access-token`` is always answered 401. Tokens issued by refresh last 2 hours.
- refresh token ``x-test-refresh-token``, client id ``x-test-client-id``; a confidential client
  adds Basic auth with secret ``x-test-client-secret``. Refresh tokens rotate (one use each).
- ``GET /i/oauth2/authorize`` consents at once and redirects with a code for ``POST /2/oauth2/token``
  (PKCE S256 checked).

Answers as X does: 201 ``{"data": {"id", "text"}}`` (links as t.co, ``& < >`` escaped), 403 for
duplicate text, problem JSON, ``x-rate-limit-*`` (and 24-hour) headers counting down, 429 when spent.

Test controls:

- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "mode": "status"|"after"|"drop",
  "method": "POST", "path": "/2/tweets"}``: "status" answers instead of acting, "after" acts
  (stores the post) then answers ``status``, "drop" acts then drops the connection
  (``httpx.RemoteProtocolError`` in-process; a 500 under a real server).
- ``POST /__fake__/expire-tokens``: every access token issued so far now answers 401.
- ``POST /__fake__/engage`` ``{"id": "...", "like_count": 3, ...}``: set a post's metrics.
- ``GET /__fake__/state``: the stored posts, as created.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import itertools
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from finagency.integrations.platforms.textrules import rules_for

# Published test credentials of the fake, not secrets.
TEST_ACCESS_TOKEN = "x-test-access-token"  # noqa: S105
EXPIRED_ACCESS_TOKEN = "x-expired-access-token"  # noqa: S105
TEST_REFRESH_TOKEN = "x-test-refresh-token"  # noqa: S105
TEST_CLIENT_ID = "x-test-client-id"
TEST_CLIENT_SECRET = "x-test-client-secret"  # noqa: S105
TEST_USER = {"id": "1500000000000000001", "username": "finagency_fake", "name": "Finagency Fake"}
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
SCOPE = "tweet.read tweet.write users.read media.write offline.access"
DEFAULT_LIMITS = {
    "POST /2/tweets": 100,
    "GET /2/tweets/{id}": 900,
    "GET /2/users/{id}/tweets": 900,
    "GET /2/users/me": 75,
    "POST /2/media/upload": 500,
    "POST /2/media/metadata": 500,
}
WINDOW_SECONDS = 15 * 60
TOKEN_SECONDS = 2 * 60 * 60
_CREATE_FIELDS = {"text", "media", "reply", "quote_tweet_id", "poll", "reply_settings", "geo"}
_CREATE_FIELDS |= {"nullcast", "for_super_followers_only", "card_uri", "community_id"}
_CREATE_FIELDS |= {"edit_options", "direct_message_deep_link"}
_METRICS = ["retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count"]
_METRICS += ["impression_count"]
_URL = re.compile(r"https?://\S+")
_MODES = ("status", "after", "drop")
_INVALID = "https://api.twitter.com/2/problems/invalid-request"
_NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Tweet:
    id: str
    text: str
    created_at: datetime
    reply_to: str | None = None
    media_ids: list[str] = field(default_factory=list)
    metrics: dict[str, int] = field(default_factory=dict)

    def render(self, fields: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "text": displayed(self.text)}
        body["edit_history_tweet_ids"] = [self.id]
        if "created_at" in fields:
            body["created_at"] = self.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "public_metrics" in fields:
            body["public_metrics"] = {key: self.metrics.get(key, 0) for key in _METRICS}
        return body


@dataclass
class Fault:
    status: int
    times: int
    mode: str = "status"
    method: str | None = None
    path: str | None = None

    def matches(self, request: Request) -> bool:
        path_ok = self.path is None or request.url.path.endswith(self.path)
        return path_ok and self.method in (None, request.method)


def displayed(text: str) -> str:
    """Text as X gives it back: HTML-escaped ``& < >`` and every link shortened to t.co."""
    short = hashlib.sha256(text.encode()).hexdigest()[:10]
    return _URL.sub(f"https://t.co/{short}", html.escape(text, quote=False))


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> JSONResponse:
    return JSONResponse({"title": title, "detail": detail, "type": kind, "status": status}, status)


def invalid(message: str, parameter: str, value: object) -> JSONResponse:
    body = {
        "errors": [{"parameters": {parameter: [str(value)]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": _INVALID,
    }
    return JSONResponse(body, 400)


class FakeX:
    """The in-memory state and the endpoints over it."""

    def __init__(self, limits: Mapping[str, int], daily_posts: int, clock: Callable[[], float]):
        self.clock = clock
        self.limits = {**DEFAULT_LIMITS, **limits}
        self.daily_posts = daily_posts
        self.tweets: dict[str, Tweet] = {}
        self.media: dict[str, str] = {}
        self.access_tokens: dict[str, float] = {TEST_ACCESS_TOKEN: float("inf")}
        self.refresh_tokens = {TEST_REFRESH_TOKEN}
        self.codes: dict[str, tuple[str, str]] = {}
        self.faults: list[Fault] = []
        self.windows: dict[str, tuple[int, float]] = {}
        self._ids = itertools.count(1860000000000000001)

    def new_id(self) -> str:
        return str(next(self._ids))

    def api(self, key: str, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            fault = self._take_fault(request)
            if fault is not None and fault.mode == "status":
                return self._with_limits(problem(fault.status, "Injected", "fake failure"), key)
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if self.access_tokens.get(token, 0.0) <= self.clock():
                return problem(401, "Unauthorized", "Unauthorized")
            if not self._consume(key):
                return self._with_limits(
                    problem(429, "Too Many Requests", "Too Many Requests"), key
                )
            response = await handler(request)
            if fault is not None and fault.mode == "drop":
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if fault is not None:
                response = problem(fault.status, "Injected", "fake failure after acting")
            return self._with_limits(response, key)

        return endpoint

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _windows(self, key: str) -> list[tuple[str, str, int, float]]:
        """(header prefix, window key, limit, length) of each window a call counts against."""
        windows = [("x-rate-limit", key, self.limits[key], float(WINDOW_SECONDS))]
        if key == "POST /2/tweets":
            for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
                windows.append((prefix, prefix, self.daily_posts, 86400.0))
        return windows

    def _usage(self, name: str, length: float) -> tuple[int, float]:
        used, reset = self.windows.get(name, (0, 0.0))
        if self.clock() >= reset:
            used, reset = 0, float(int(self.clock()) + length)
        self.windows[name] = (used, reset)
        return used, reset

    def _consume(self, key: str) -> bool:
        windows = self._windows(key)
        if any(self._usage(name, length)[0] >= limit for _, name, limit, length in windows):
            return False
        for _, name, _, length in windows:
            used, reset = self._usage(name, length)
            self.windows[name] = (used + 1, reset)
        return True

    def _with_limits(self, response: Response, key: str) -> Response:
        for prefix, name, limit, length in self._windows(key):
            used, reset = self._usage(name, length)
            response.headers[f"{prefix}-limit"] = str(limit)
            response.headers[f"{prefix}-remaining"] = str(max(limit - used, 0))
            response.headers[f"{prefix}-reset"] = str(int(reset))
        return response

    async def create_tweet(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            return invalid("The request body is not valid JSON.", "body", "")
        extra = set(body) - _CREATE_FIELDS
        if extra:
            return invalid(f"[{sorted(extra)[0]}] is not a valid field.", sorted(extra)[0], "")
        text = body.get("text", "")
        media_ids = list((body.get("media") or {}).get("media_ids", []))
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not isinstance(text, str) or (not text and not media_ids):
            return invalid("Text is required unless media is attached.", "text", text)
        if not rules_for("x").fits(text):
            return problem(403, "Forbidden", "Your Tweet text is too long.")
        if any(tweet.text == text for tweet in self.tweets.values()):
            return problem(403, "Forbidden", DUPLICATE_DETAIL)
        if reply_to is not None and reply_to not in self.tweets:
            return invalid("The Tweet you are replying to does not exist.", "reply", reply_to)
        unknown = [media_id for media_id in media_ids if media_id not in self.media]
        if unknown:
            return invalid("The media id was not found.", "media.media_ids", unknown[0])
        tweet = Tweet(self.new_id(), text, datetime.fromtimestamp(self.clock(), UTC), reply_to)
        tweet.media_ids = media_ids
        self.tweets[tweet.id] = tweet
        if reply_to is not None:
            parent = self.tweets[reply_to].metrics
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        return JSONResponse({"data": tweet.render(set())}, 201)

    async def get_tweet(self, request: Request) -> Response:
        tweet_id = request.path_params["id"]
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            detail = f"Could not find tweet with id: [{tweet_id}]."
            error = {"value": tweet_id, "detail": detail, "title": "Not Found Error"}
            error |= {"resource_type": "tweet", "resource_id": tweet_id, "type": _NOT_FOUND}
            return JSONResponse({"errors": [error]})
        return JSONResponse({"data": tweet.render(_fields(request))})

    async def user_tweets(self, request: Request) -> Response:
        raw = request.query_params.get("max_results", "10")
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            message = f"The `max_results` query parameter value [{raw}] is not between 5 and 100"
            return invalid(message, "max_results", raw)
        if request.path_params["id"] != TEST_USER["id"]:
            return JSONResponse({"errors": [{"title": "Not Found Error", "detail": "no user"}]})
        tweets = sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True)[: int(raw)]
        if not tweets:
            return JSONResponse({"meta": {"result_count": 0}})
        data = [tweet.render(_fields(request)) for tweet in tweets]
        meta = {"result_count": len(data), "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
        return JSONResponse({"data": data, "meta": meta})

    async def me(self, request: Request) -> Response:
        return JSONResponse({"data": dict(TEST_USER)})

    async def upload(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("media"), str):
            return invalid("media is required.", "media", "")
        try:
            data = base64.b64decode(body["media"], validate=True)
        except binascii.Error:
            return invalid("media is not valid base64.", "media", "")
        media_id = self.new_id()
        self.media[media_id] = ""
        image = {"image_type": body.get("media_type", "image/jpeg"), "w": 1, "h": 1}
        data_out = {"id": media_id, "media_key": f"3_{media_id}", "size": len(data)}
        return JSONResponse({"data": {**data_out, "expires_after_secs": 86400, "image": image}})

    async def media_metadata(self, request: Request) -> Response:
        body = await _json(request)
        media_id = body.get("id") if isinstance(body, dict) else None
        if media_id not in self.media or not isinstance(body, dict):
            return invalid("The media id was not found.", "id", media_id)
        self.media[media_id] = str(body["metadata"]["alt_text"]["text"])
        return JSONResponse({"data": {"id": media_id, "associated_metadata": body["metadata"]}})

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != TEST_CLIENT_ID or query.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, 400)
        code = f"x-code-{self.new_id()}"
        self.codes[code] = (query.get("code_challenge", ""), query.get("redirect_uri", ""))
        target = urlencode({"state": query.get("state", ""), "code": code})
        return RedirectResponse(f"{query.get('redirect_uri', '')}?{target}", 302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        refused = {"error": "invalid_request"}
        basic = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{TEST_CLIENT_ID}:{TEST_CLIENT_SECRET}".encode()).decode()
        if basic and basic != f"Basic {expected}":
            return JSONResponse({"error": "unauthorized_client"}, 401)
        if form.get("client_id") != TEST_CLIENT_ID:
            return JSONResponse({**refused, "error_description": "Missing valid client_id"}, 400)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                detail = "Value passed for the token was invalid."
                return JSONResponse({**refused, "error_description": detail}, 400)
            self.refresh_tokens.discard(str(form.get("refresh_token")))
        elif form.get("grant_type") == "authorization_code":
            challenge, redirect_uri = self.codes.pop(str(form.get("code")), ("", ""))
            verifier = str(form.get("code_verifier", "")).encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            wrong_uri = form.get("redirect_uri") != redirect_uri
            if not challenge or digest.decode() != challenge or wrong_uri:
                detail = "Value passed for the authorization code was invalid."
                return JSONResponse({**refused, "error_description": detail}, 400)
        else:
            return JSONResponse({**refused, "error_description": "Unsupported grant_type"}, 400)
        number = self.new_id()
        access, refresh = f"x-access-{number}", f"x-refresh-{number}"
        self.access_tokens[access] = self.clock() + TOKEN_SECONDS
        self.refresh_tokens.add(refresh)
        grant = {"token_type": "bearer", "expires_in": TOKEN_SECONDS, "access_token": access}
        return JSONResponse({**grant, "scope": SCOPE, "refresh_token": refresh})

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
        tweet = self.tweets.get(str(body.get("id"))) if isinstance(body, dict) else None
        if tweet is None or not isinstance(body, dict):
            return JSONResponse({"error": "no such post"}, 404)
        tweet.metrics.update({k: int(v) for k, v in body.items() if k != "id"})
        return JSONResponse({"data": tweet.render({"public_metrics"})})

    async def state(self, request: Request) -> Response:
        posts = [{**vars(t), "created_at": t.created_at.isoformat()} for t in self.tweets.values()]
        return JSONResponse({"posts": posts, "media": self.media})


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _fields(request: Request) -> set[str]:
    return set(filter(None, request.query_params.get("tweet.fields", "").split(",")))


def create_app(
    *,
    limits: Mapping[str, int] | None = None,
    daily_posts: int = 10_000,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """A fresh fake; ``limits`` overrides the 15-minute window per "METHOD /path" key."""
    fake = FakeX(limits or {}, daily_posts, clock)
    endpoints: dict[str, Handler] = {
        "POST /2/tweets": fake.create_tweet,
        "GET /2/tweets/{id}": fake.get_tweet,
        "GET /2/users/me": fake.me,
        "GET /2/users/{id}/tweets": fake.user_tweets,
        "POST /2/media/upload": fake.upload,
        "POST /2/media/metadata": fake.media_metadata,
    }
    routes = [
        Route(k.split()[1], fake.api(k, h), methods=[k.split()[0]]) for k, h in endpoints.items()
    ]
    controls: dict[str, Handler] = {
        "GET /i/oauth2/authorize": fake.authorize,
        "POST /2/oauth2/token": fake.token,
        "POST /__fake__/fail": fake.fail,
        "POST /__fake__/expire-tokens": fake.expire_tokens,
        "POST /__fake__/engage": fake.engage,
        "GET /__fake__/state": fake.state,
    }
    routes += [Route(k.split()[1], h, methods=[k.split()[0]]) for k, h in controls.items()]
    app = Starlette(routes=routes)
    app.state.fake = fake
    return app
