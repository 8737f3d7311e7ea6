"""Fake Discord webhooks: execute, get webhook, get message, with Discord's rate-limit headers.

Test credentials: webhook id ``1100000000000000001`` with token ``test-discord-webhook-token``
(guild ``1000000000000000001``, channel ``1000000000000000002``, name "Finagency"). A wrong token
gets 401 ``{"message": "Invalid Webhook Token", "code": 50027}``; an unknown id, or the webhook
after ``/__fake__/revoke`` (deleted), gets 404 ``{"message": "Unknown Webhook", "code": 10015}``.

Routes (any ``/api/v{n}``): ``POST /api/v10/webhooks/{id}/{token}`` (JSON, or multipart with
``payload_json`` and ``files[n]``; 204 unless ``wait=true``, then 200 and the message),
``GET /api/v10/webhooks/{id}/{token}`` (the webhook), ``GET …/messages/{message_id}``.
``content`` over 2000 characters is 400 code 50035; nothing to send is 400 code 50006. Every
answer carries ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket``; more than
``rate_limit`` executions within ``window_seconds`` → 429 with ``Retry-After``,
``X-RateLimit-Scope: shared`` and ``{"message", "retry_after", "global": false}``.

Control endpoints (relative paths):

- ``GET /__fake__/messages`` — every message saved, oldest first;
- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "retry_after"?: 1.5}``;
- ``POST /__fake__/drop`` ``{"times": 1}`` — the next executions save the message, answer 500;
- ``POST /__fake__/react`` ``{"message_id": "...", "emoji": "👍", "count": 3}``;
- ``POST /__fake__/revoke`` — delete the webhook;
- ``POST /__fake__/rate_limit`` ``{"limit": 1, "window_seconds": 60}``;
- ``POST /__fake__/reset``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Documented test credentials of the fake, not secrets.
WEBHOOK_ID = "1100000000000000001"
WEBHOOK_TOKEN = "test-discord-webhook-token"  # noqa: S105
GUILD_ID = "1000000000000000001"
CHANNEL_ID = "1000000000000000002"
BUCKET = "a06de2d6d6b1b9a4b4a5e3a0f5e6d7c8"


@dataclass
class _State:
    rate_limit: int
    window_seconds: float
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_status: int = 0
    fail_times: int = 0
    fail_retry_after: float = 1.5
    drop_times: int = 0
    deleted: bool = False
    window_start: float = 0.0
    used: int = 0


def _error(status: int, message: str, code: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "code": code, **extra}, status_code=status)


def create_app(*, rate_limit: int = 5, window_seconds: float = 2.0) -> Starlette:
    state = _State(rate_limit=rate_limit, window_seconds=window_seconds)

    def limit_headers(now: float) -> dict[str, str]:
        if now - state.window_start >= state.window_seconds:
            state.window_start, state.used = now, 0
        reset_after = max(state.window_seconds - (now - state.window_start), 0.0)
        return {
            "X-RateLimit-Limit": str(state.rate_limit),
            "X-RateLimit-Remaining": str(max(state.rate_limit - state.used, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": BUCKET,
        }

    def rate_limited(headers: dict[str, str]) -> JSONResponse:
        wait = float(headers["X-RateLimit-Reset-After"])
        headers |= {"Retry-After": str(math.ceil(wait)), "X-RateLimit-Scope": "shared"}
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
        return JSONResponse(body, status_code=429, headers=headers)

    def check_webhook(request: Request) -> JSONResponse | None:
        if request.path_params["webhook_id"] != WEBHOOK_ID or state.deleted:
            return _error(404, "Unknown Webhook", 10015)
        if request.path_params["token"] != WEBHOOK_TOKEN:
            return _error(401, "Invalid Webhook Token", 50027)
        return None

    def injected_failure(headers: dict[str, str]) -> JSONResponse | None:
        if state.fail_times <= 0:
            return None
        state.fail_times -= 1
        if state.fail_status == 429:
            headers |= {"X-RateLimit-Reset-After": str(state.fail_retry_after)}
            return rate_limited(headers)
        return JSONResponse(
            {"message": f"{state.fail_status}: injected failure", "code": 0},
            status_code=state.fail_status,
            headers=headers,
        )

    async def payload(request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            files: list[dict[str, Any]] = []
            body: dict[str, Any] = {}
            async with request.form() as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        data = await value.read()
                        files.append({"field": key, "filename": value.filename, "size": len(data)})
                    elif key == "payload_json":
                        body = json.loads(value)
            return body, files
        return await request.json(), []

    async def execute(request: Request) -> Response:
        headers = limit_headers(time.monotonic())
        failure = injected_failure(headers) or check_webhook(request)
        if failure is not None:
            return failure
        try:
            body, files = await payload(request)
        except ValueError:
            return _error(400, "The request body contains invalid JSON.", 50109)
        content = str(body.get("content") or "")
        if len(content) > 2000:
            errors = {
                "content": {
                    "_errors": [
                        {
                            "code": "BASE_TYPE_MAX_LENGTH",
                            "message": "Must be 2000 or fewer in length.",
                        }
                    ]
                }
            }
            return _error(400, "Invalid Form Body", 50035, errors=errors)
        if not content.strip() and not files and not body.get("embeds"):
            return _error(400, "Cannot send an empty message", 50006)
        if state.used >= state.rate_limit:
            return rate_limited(headers)
        state.used += 1
        headers["X-RateLimit-Remaining"] = str(max(state.rate_limit - state.used, 0))
        message = {
            "id": str(1300000000000000000 + len(state.messages) + 1),
            "type": 0,
            "content": content,
            "channel_id": CHANNEL_ID,
            "webhook_id": WEBHOOK_ID,
            "author": {"id": WEBHOOK_ID, "username": "Finagency", "bot": True},
            "attachments": [
                {"id": str(i), "filename": f["filename"], "size": f["size"]}
                for i, f in enumerate(files)
            ],
            "embeds": body.get("embeds") or [],
            "mentions": [],
            "pinned": False,
            "flags": 0,
            "timestamp": datetime.now(UTC).isoformat(),
            "received": {"query": dict(request.query_params), "payload": body},
        }
        state.messages.append(message)
        if state.drop_times > 0:
            state.drop_times -= 1
            return _error(500, "500: Internal Server Error", 0)
        public = {k: v for k, v in message.items() if k != "received"}
        if request.query_params.get("wait", "").lower() in ("true", "1"):
            return JSONResponse(public, headers=headers)
        return Response(status_code=204, headers=headers)

    async def get_webhook(request: Request) -> Response:
        headers = limit_headers(time.monotonic())
        failure = injected_failure(headers) or check_webhook(request)
        if failure is not None:
            return failure
        webhook = {
            "id": WEBHOOK_ID,
            "type": 1,
            "guild_id": GUILD_ID,
            "channel_id": CHANNEL_ID,
            "name": "Finagency",
            "avatar": None,
            "application_id": None,
            "token": WEBHOOK_TOKEN,
        }
        return JSONResponse(webhook, headers=headers)

    async def get_message(request: Request) -> Response:
        headers = limit_headers(time.monotonic())
        failure = injected_failure(headers) or check_webhook(request)
        if failure is not None:
            return failure
        for message in state.messages:
            if message["id"] == request.path_params["message_id"]:
                public = {k: v for k, v in message.items() if k != "received"}
                return JSONResponse(public, headers=headers)
        return _error(404, "Unknown Message", 10008)

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse(state.messages)

    async def fail(request: Request) -> JSONResponse:
        body = await request.json()
        state.fail_status = int(body.get("status", 500))
        state.fail_times = int(body.get("times", 1))
        state.fail_retry_after = float(body.get("retry_after", 1.5))
        return JSONResponse({"ok": True})

    async def drop(request: Request) -> JSONResponse:
        state.drop_times = int((await request.json()).get("times", 1))
        return JSONResponse({"ok": True})

    async def react(request: Request) -> JSONResponse:
        body = await request.json()
        for message in state.messages:
            if message["id"] == str(body["message_id"]):
                count = int(body.get("count", 1))
                message.setdefault("reactions", []).append(
                    {
                        "emoji": {"id": None, "name": body.get("emoji", "👍")},
                        "count": count,
                        "count_details": {"burst": 0, "normal": count},
                        "me": False,
                    }
                )
                return JSONResponse({"ok": True})
        return _error(404, "Unknown Message", 10008)

    async def revoke(request: Request) -> JSONResponse:
        state.deleted = True
        return JSONResponse({"ok": True})

    async def set_rate_limit(request: Request) -> JSONResponse:
        body = await request.json()
        state.rate_limit = int(body.get("limit", state.rate_limit))
        state.window_seconds = float(body.get("window_seconds", state.window_seconds))
        state.window_start, state.used = time.monotonic(), 0
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> JSONResponse:
        state.messages.clear()
        state.fail_times = state.drop_times = state.used = 0
        state.deleted = False
        return JSONResponse({"ok": True})

    webhook = "/api/v{version:int}/webhooks/{webhook_id}/{token}"
    return Starlette(
        routes=[
            Route("/__fake__/messages", messages, methods=["GET"]),
            Route("/__fake__/fail", fail, methods=["POST"]),
            Route("/__fake__/drop", drop, methods=["POST"]),
            Route("/__fake__/react", react, methods=["POST"]),
            Route("/__fake__/revoke", revoke, methods=["POST"]),
            Route("/__fake__/rate_limit", set_rate_limit, methods=["POST"]),
            Route("/__fake__/reset", reset, methods=["POST"]),
            Route(webhook, execute, methods=["POST"]),
            Route(webhook, get_webhook, methods=["GET"]),
            Route(webhook + "/messages/{message_id}", get_message, methods=["GET"]),
        ]
    )
