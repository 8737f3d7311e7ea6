"""Fake Telegram Bot API: ``/bot{token}/{method}`` answering with Telegram's own envelopes.

Test credentials:

- bot token ``123456:TEST-telegram-token`` (bot ``@finagency_test_bot``, id 123456);
- ``654321:REVOKED-telegram-token`` is always refused (401 Unauthorized), as is any other token;
- chats: ``@finagency_news`` or ``-1001234567890`` (public channel ``finagency_news``),
  ``-1009876543210`` (private channel), ``-1005550000000`` (bot kicked: 403),
  ``-4242`` (group upgraded: 400 with ``migrate_to_chat_id`` = -1001234567890);
  any other chat → 400 "Bad Request: chat not found".

Methods: ``getMe``, ``getChat``, ``sendMessage``, ``sendPhoto`` (case-insensitive; parameters as
query string, JSON, form or multipart). Text over 4096 / captions over 1024 UTF-16 units are
refused as Telegram does. More than ``rate_limit`` messages into one chat within
``window_seconds`` → 429 with ``parameters.retry_after``.

Control endpoints (relative paths, so the app can be mounted under a prefix):

- ``GET /__fake__/messages`` — every message accepted, oldest first;
- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "description"?: "...", "retry_after"?: 3}``
  — the next calls answer that error envelope;
- ``POST /__fake__/drop`` ``{"times": 1}`` — the next sends store the message, then answer 500;
- ``POST /__fake__/revoke`` — the valid token stops working (as after /revoke in @BotFather);
- ``POST /__fake__/rate_limit`` ``{"limit": 1, "window_seconds": 60}``;
- ``POST /__fake__/reset`` — forget messages, faults and the revocation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# Documented test credentials of the fake, not secrets.
VALID_TOKEN = "123456:TEST-telegram-token"  # noqa: S105
REVOKED_TOKEN = "654321:REVOKED-telegram-token"  # noqa: S105
PUBLIC_CHANNEL_ID = -1001234567890
PUBLIC_CHANNEL = "@finagency_news"
PRIVATE_CHANNEL_ID = -1009876543210
KICKED_CHAT_ID = -1005550000000
MIGRATED_CHAT_ID = -4242

_BOT = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Finagency Test",
    "username": "finagency_test_bot",
}
_CHATS: dict[int, dict[str, Any]] = {
    PUBLIC_CHANNEL_ID: {
        "id": PUBLIC_CHANNEL_ID,
        "type": "channel",
        "title": "Finagency News",
        "username": "finagency_news",
    },
    PRIVATE_CHANNEL_ID: {"id": PRIVATE_CHANNEL_ID, "type": "channel", "title": "Desk (private)"},
}


@dataclass
class _State:
    rate_limit: int
    window_seconds: float
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_status: int = 0
    fail_times: int = 0
    fail_description: str = ""
    fail_retry_after: int = 3
    drop_times: int = 0
    revoked: bool = False
    sent_at: dict[int, list[float]] = field(default_factory=dict)


class _Refusal(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise _Refusal(400, "Bad Request: can't parse JSON object") from None
        if isinstance(body, dict):
            params.update(body)
    elif "form" in content_type:
        async with request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    params[key] = {"filename": value.filename, "size": len(data)}
                else:
                    params[key] = value
    return params


def _chat(chat_id: Any) -> dict[str, Any]:
    key = str(chat_id)
    if key == PUBLIC_CHANNEL:
        return _CHATS[PUBLIC_CHANNEL_ID]
    try:
        number = int(key)
    except ValueError:
        raise _Refusal(400, "Bad Request: chat not found") from None
    if number == KICKED_CHAT_ID:
        raise _Refusal(403, "Forbidden: bot was kicked from the channel chat")
    if number == MIGRATED_CHAT_ID:
        raise _Refusal(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": PUBLIC_CHANNEL_ID},
        )
    if number not in _CHATS:
        raise _Refusal(400, "Bad Request: chat not found")
    return _CHATS[number]


def create_app(*, rate_limit: int = 20, window_seconds: float = 60.0) -> Starlette:
    state = _State(rate_limit=rate_limit, window_seconds=window_seconds)

    def check_rate(chat_id: int) -> None:
        now = time.monotonic()
        recent = [t for t in state.sent_at.get(chat_id, []) if now - t < state.window_seconds]
        state.sent_at[chat_id] = recent
        if len(recent) >= state.rate_limit:
            retry_after = max(1, math.ceil(state.window_seconds - (now - recent[0])))
            raise _Refusal(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        recent.append(now)

    def send(params: dict[str, Any], *, photo: bool) -> dict[str, Any]:
        chat = _chat(params.get("chat_id", ""))
        message: dict[str, Any] = {
            "message_id": len(state.messages) + 1,
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
        }
        if photo:
            if not params.get("photo"):
                raise _Refusal(400, "Bad Request: there is no photo in the request")
            caption = str(params.get("caption", ""))
            if _utf16(caption) > 1024:
                raise _Refusal(400, "Bad Request: message caption is too long")
            message["photo"] = [{"file_id": f"photo-{message['message_id']}", "width": 1280}]
            if caption:
                message["caption"] = caption
        else:
            text = str(params.get("text", ""))
            if not text.strip():
                raise _Refusal(400, "Bad Request: message text is empty")
            if _utf16(text) > 4096:
                raise _Refusal(400, "Bad Request: message is too long")
            message["text"] = text
            if "parse_mode" in params:
                message["parse_mode_received"] = params["parse_mode"]
            if "link_preview_options" in params:
                message["link_preview_options"] = params["link_preview_options"]
        check_rate(chat["id"])
        state.messages.append(message)
        return message

    async def method(request: Request) -> JSONResponse:
        token = request.path_params["token"]
        if state.fail_times > 0:
            state.fail_times -= 1
            status = state.fail_status
            extra = {"retry_after": state.fail_retry_after} if status == 429 else None
            return _error(status, state.fail_description or "Internal Server Error", extra)
        if token != VALID_TOKEN or state.revoked:
            return _error(401, "Unauthorized")
        name = request.path_params["method"].lower()
        try:
            params = await _params(request)
            if name == "getme":
                return JSONResponse({"ok": True, "result": _BOT})
            if name == "getchat":
                return JSONResponse({"ok": True, "result": _chat(params.get("chat_id", ""))})
            if name not in ("sendmessage", "sendphoto"):
                return _error(404, "Not Found: method not found")
            message = send(params, photo=name == "sendphoto")
        except _Refusal as refusal:
            return _error(refusal.code, refusal.description, refusal.parameters)
        if state.drop_times > 0:
            state.drop_times -= 1
            return _error(500, "Internal Server Error")
        return JSONResponse({"ok": True, "result": message})

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse(state.messages)

    async def fail(request: Request) -> JSONResponse:
        body = await request.json()
        state.fail_status = int(body.get("status", 500))
        state.fail_times = int(body.get("times", 1))
        state.fail_description = str(body.get("description", ""))
        state.fail_retry_after = int(body.get("retry_after", 3))
        return JSONResponse({"ok": True})

    async def drop(request: Request) -> JSONResponse:
        state.drop_times = int((await request.json()).get("times", 1))
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
        state.sent_at.clear()
        state.fail_times = state.drop_times = 0
        state.revoked = False
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/__fake__/messages", messages, methods=["GET"]),
            Route("/__fake__/fail", fail, methods=["POST"]),
            Route("/__fake__/drop", drop, methods=["POST"]),
            Route("/__fake__/revoke", revoke, methods=["POST"]),
            Route("/__fake__/rate_limit", set_rate_limit, methods=["POST"]),
            Route("/__fake__/reset", reset, methods=["POST"]),
            Route("/bot{token}/{method}", method, methods=["GET", "POST"]),
        ]
    )
