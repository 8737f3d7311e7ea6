"""Fake Slack: Web API methods (errors inside HTTP 200) and an incoming webhook (plain text).

Test credentials:

- bot token ``xoxb-test-finagency`` (team ``T0TEAM`` "Finagency Test", bot user ``U0BOT``);
  ``xoxb-revoked-finagency`` → ``token_revoked``; no token → ``not_authed``; any other →
  ``invalid_auth`` (all HTTP 200 ``{"ok": false, "error": …}``, as Slack answers);
- channels: ``C0FINANCE`` (or ``#finance``); ``C0ARCHIVED`` → ``is_archived``; ``C0NOTIN`` →
  ``not_in_channel``; anything else → ``channel_not_found``;
- incoming webhook ``/services/T0TEAM/B0HOOK/test-webhook-secret``: answers 200 ``ok``; a wrong
  secret → 403 ``invalid_token``; an unknown team/bot → 404 ``no_service``; after revoke → 410
  ``no_active_hooks``; no text → 400 ``no_text``; bad JSON → 400 ``invalid_payload``.

Web API methods (``/api/<method>``): ``chat.postMessage``, ``auth.test``, ``chat.getPermalink``,
``reactions.get``, ``files.getUploadURLExternal`` (form), then a POST to the returned upload URL,
then ``files.completeUploadExternal``. Text over 40,000 characters → ``msg_too_long``. More than
``rate_limit`` messages per channel within ``window_seconds`` → HTTP 429 with ``Retry-After``
(Web API body ``{"ok": false, "error": "ratelimited"}``, webhook body ``rate_limited``).

Control endpoints (relative paths):

- ``GET /__fake__/messages`` — every message posted (``via``: chat.postMessage, webhook, file);
- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "error"?: "fatal_error", "retry_after"?: 3}``
  (``status`` 200 with ``error`` injects a Web API logical error);
- ``POST /__fake__/drop`` ``{"times": 1}`` — the next posts are stored, then answered 500;
- ``POST /__fake__/react`` ``{"channel", "ts", "name": "thumbsup", "count": 2, "replies"?: 1}``;
- ``POST /__fake__/revoke`` — the bot token and the webhook stop working;
- ``POST /__fake__/rate_limit`` ``{"limit": 1, "window_seconds": 60}``; ``POST /__fake__/reset``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

# Documented test credentials of the fake, not secrets.
BOT_TOKEN = "xoxb-test-finagency"  # noqa: S105
REVOKED_BOT_TOKEN = "xoxb-revoked-finagency"  # noqa: S105
CHANNEL_ID = "C0FINANCE"
WEBHOOK_PATH = "/services/T0TEAM/B0HOOK/test-webhook-secret"
WORKSPACE_URL = "https://finagency-test.slack.com/"
_CHANNEL_ERRORS = {"C0ARCHIVED": "is_archived", "C0NOTIN": "not_in_channel"}


@dataclass
class _State:
    rate_limit: int
    window_seconds: float
    messages: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail: dict[str, Any] = field(default_factory=dict)
    drop_times: int = 0
    revoked: bool = False
    sent_at: dict[str, list[float]] = field(default_factory=dict)


class _SlackError(Exception):
    def __init__(self, code: str, status: int = 200, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code, self.status, self.retry_after = code, status, retry_after


def _ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **fields})


async def _arguments(request: Request) -> dict[str, Any]:
    """Slack takes arguments as query string, form or JSON."""
    args: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise _SlackError("invalid_json") from None
        if isinstance(body, dict):
            args.update(body)
    elif "form" in content_type:
        async with request.form() as form:
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def create_app(*, rate_limit: int = 20, window_seconds: float = 60.0) -> Starlette:
    state = _State(rate_limit=rate_limit, window_seconds=window_seconds)

    def injected() -> _SlackError | None:
        if int(state.fail.get("times", 0)) <= 0:
            return None
        state.fail["times"] -= 1
        status = int(state.fail.get("status", 500))
        default = "ratelimited" if status == 429 else "internal_error"
        retry = int(state.fail.get("retry_after", 3)) if status == 429 else 0
        return _SlackError(str(state.fail.get("error") or default), status, retry)

    def check_token(request: Request, args: dict[str, Any]) -> None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header else str(args.get("token", ""))
        if not token:
            raise _SlackError("not_authed")
        if token == REVOKED_BOT_TOKEN or (token == BOT_TOKEN and state.revoked):
            raise _SlackError("token_revoked")
        if token != BOT_TOKEN:
            raise _SlackError("invalid_auth")

    def check_channel(channel: str) -> str:
        channel = CHANNEL_ID if channel == "#finance" else channel
        if channel in _CHANNEL_ERRORS:
            raise _SlackError(_CHANNEL_ERRORS[channel])
        if channel != CHANNEL_ID:
            raise _SlackError("channel_not_found")
        return channel

    def check_rate(channel: str, status: int = 429) -> None:
        now = time.monotonic()
        recent = [t for t in state.sent_at.get(channel, []) if now - t < state.window_seconds]
        state.sent_at[channel] = recent
        if len(recent) >= state.rate_limit:
            wait = max(1, math.ceil(state.window_seconds - (now - recent[0])))
            raise _SlackError("ratelimited", status, wait)
        recent.append(now)

    def store(channel: str, text: str, via: str, **extra: Any) -> dict[str, Any]:
        if len(text) > 40_000:
            raise _SlackError("msg_too_long", 400 if via == "webhook" else 200)
        check_rate(channel)
        ts = f"{int(time.time())}.{len(state.messages) + 1:06d}"
        message: dict[str, Any] = {
            "channel": channel,
            "ts": ts,
            "text": text,
            "via": via,
            "user": "U0BOT",
        }
        message |= {"reactions": [], "reply_count": 0, **extra}
        state.messages.append(message)
        if state.drop_times > 0:
            state.drop_times -= 1
            raise _SlackError("internal_error", 500)
        return message

    def find(args: dict[str, Any]) -> dict[str, Any]:
        for message in state.messages:
            if args.get("file") and any(f["id"] == args["file"] for f in message.get("files", [])):
                return message
            if (message["channel"], message["ts"]) == (args.get("channel"), args.get("timestamp")):
                return message
        raise _SlackError("file_not_found" if args.get("file") else "message_not_found")

    def permalink(channel: str, ts: str) -> str:
        return f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}"

    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        try:
            failure = injected()
            if failure is not None:
                raise failure
            args = await _arguments(request)
            check_token(request, args)
            if method == "auth.test":
                return _ok(
                    url=WORKSPACE_URL,
                    team="Finagency Test",
                    user="finagency_bot",
                    team_id="T0TEAM",
                    user_id="U0BOT",
                    bot_id="B0BOT",
                    is_enterprise_install=False,
                )
            if method == "chat.postMessage":
                channel = check_channel(str(args.get("channel", "")))
                text = str(args.get("text") or "")
                if not text.strip() and not args.get("blocks"):
                    raise _SlackError("no_text")
                options = {k: args[k] for k in ("mrkdwn", "unfurl_links", "blocks") if k in args}
                message = store(channel, text, "chat.postMessage", received=options)
                public = {k: message[k] for k in ("text", "ts", "user")} | {"type": "message"}
                return _ok(channel=channel, ts=message["ts"], message=public)
            if method == "chat.getPermalink":
                message = find(
                    {"channel": args.get("channel"), "timestamp": args.get("message_ts")}
                )
                return _ok(channel=message["channel"], permalink=permalink(**_key(message)))
            if method == "reactions.get":
                message = find(args)
                if args.get("file"):
                    return _ok(
                        type="file", file=message["files"][0] | {"reactions": message["reactions"]}
                    )
                return _ok(type="message", channel=message["channel"], message=message)
            if method == "files.getUploadURLExternal":
                if not args.get("filename") or not str(args.get("length", "")).isdigit():
                    raise _SlackError("invalid_arguments")
                file_id = f"F0{len(state.uploads) + 1:08d}"
                state.uploads[file_id] = {"filename": args["filename"], "size": None}
                upload_url = str(request.url_for("slack_upload", file_id=file_id))
                return _ok(upload_url=upload_url, file_id=file_id)
            if method == "files.completeUploadExternal":
                channel = check_channel(str(args.get("channel_id", "")))
                files = args.get("files") or []
                if not files or any(
                    state.uploads.get(f.get("id"), {}).get("size") is None for f in files
                ):
                    raise _SlackError("file_not_found")
                described = [
                    {
                        "id": f["id"],
                        "title": f.get("title", ""),
                        "permalink": f"{WORKSPACE_URL}files/U0BOT/{f['id']}",
                    }
                    for f in files
                ]
                store(channel, str(args.get("initial_comment", "")), "file", files=described)
                return _ok(files=described)
            raise _SlackError("unknown_method")
        except _SlackError as error:
            if error.status == 500:
                return PlainTextResponse("internal_error", status_code=500)
            headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
            body = {"ok": False, "error": error.code}
            return JSONResponse(body, status_code=error.status, headers=headers)

    async def upload(request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if file_id not in state.uploads:
            return PlainTextResponse("Not Found", status_code=404)
        size = 0
        async with request.form() as form:
            for value in form.values():
                if isinstance(value, UploadFile):
                    size += len(await value.read())
        state.uploads[file_id]["size"] = size
        return PlainTextResponse(f"OK - {size}")

    async def webhook(request: Request) -> Response:
        try:
            failure = injected()
            if failure is not None:
                raise failure
            team, bot, secret = (request.path_params[k] for k in ("team", "bot", "secret"))
            if (team, bot) != ("T0TEAM", "B0HOOK"):
                raise _SlackError("no_service", 404)
            if state.revoked:
                raise _SlackError("no_active_hooks", 410)
            if f"/services/{team}/{bot}/{secret}" != WEBHOOK_PATH:
                raise _SlackError("invalid_token", 403)
            try:
                payload = await request.json()
            except ValueError:
                raise _SlackError("invalid_payload", 400) from None
            text = str(payload.get("text") or "") if isinstance(payload, dict) else ""
            if not text.strip():
                raise _SlackError("no_text", 400)
            store("webhook", text, "webhook", received=payload)
        except _SlackError as error:
            status = 429 if error.code == "ratelimited" else error.status
            code = "rate_limited" if status == 429 else error.code
            headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
            return PlainTextResponse(
                code, status_code=status if status != 200 else 400, headers=headers
            )
        return PlainTextResponse("ok")

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse(state.messages)

    async def fail(request: Request) -> JSONResponse:
        state.fail = dict(await request.json())
        return JSONResponse({"ok": True})

    async def drop(request: Request) -> JSONResponse:
        state.drop_times = int((await request.json()).get("times", 1))
        return JSONResponse({"ok": True})

    async def react(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            message = find({"channel": body.get("channel"), "timestamp": body.get("ts")})
        except _SlackError as error:
            return JSONResponse({"ok": False, "error": error.code}, status_code=404)
        name, count = str(body.get("name", "thumbsup")), int(body.get("count", 1))
        message["reactions"].append({"name": name, "count": count, "users": ["U1"] * count})
        message["reply_count"] += int(body.get("replies", 0))
        return JSONResponse({"ok": True})

    async def revoke(request: Request) -> JSONResponse:
        state.revoked = True
        return JSONResponse({"ok": True})

    async def set_rate_limit(request: Request) -> JSONResponse:
        body = await request.json()
        state.rate_limit = int(body.get("limit", state.rate_limit))
        state.window_seconds = float(body.get("window_seconds", state.window_seconds))
        state.sent_at.clear()
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> JSONResponse:
        state.messages.clear()
        state.uploads.clear()
        state.sent_at.clear()
        state.fail, state.drop_times, state.revoked = {}, 0, False
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/__fake__/messages", messages, methods=["GET"]),
            Route("/__fake__/fail", fail, methods=["POST"]),
            Route("/__fake__/drop", drop, methods=["POST"]),
            Route("/__fake__/react", react, methods=["POST"]),
            Route("/__fake__/revoke", revoke, methods=["POST"]),
            Route("/__fake__/rate_limit", set_rate_limit, methods=["POST"]),
            Route("/__fake__/reset", reset, methods=["POST"]),
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/upload/v1/{file_id}", upload, methods=["POST"], name="slack_upload"),
            Route("/services/{team}/{bot}/{secret}", webhook, methods=["POST"]),
        ]
    )


def _key(message: dict[str, Any]) -> dict[str, str]:
    return {"channel": message["channel"], "ts": message["ts"]}
