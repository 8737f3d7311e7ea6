"""Fake webhook receiver (an n8n/Zapier stand-in) that checks signatures as receivers should.

Test credentials: url ``<mount>/hook`` (e.g. ``http://fake/hook``), secret
``whsec-test-finagency``. ``create_app(secret=…, tolerance_seconds=300)`` changes either.

``POST /hook`` verifies, independently of our signing code, ``X-Finagency-Signature`` =
``sha256=`` + hex HMAC-SHA256(secret, ``timestamp + "." + raw body``) in constant time, and
``X-Finagency-Timestamp`` within ``tolerance_seconds``; otherwise 401 ``{"error": "…"}``. A
body whose ``id`` differs from ``X-Finagency-Event-Id`` is 400. An event id seen before is
answered 200 with the first receipt and ``"duplicate": true``, storing nothing. Otherwise 200
``{"id": "rcv_<n>", "duplicate": false}``. Over ``rate_limit`` deliveries within
``window_seconds`` → 429 with ``Retry-After``.

Control endpoints (relative paths):

- ``GET /__fake__/messages`` — accepted events (pings included), oldest first, each with the
  headers received; ``GET /__fake__/rejected`` — refused deliveries and why;
- ``POST /__fake__/fail`` ``{"status": 503, "times": 2, "retry_after"?: 3}``;
- ``POST /__fake__/drop`` ``{"times": 1}`` — the next events are stored, then answered 500;
- ``POST /__fake__/revoke`` — the endpoint is gone: 410 from now on;
- ``POST /__fake__/rate_limit`` ``{"limit": 1, "window_seconds": 60}``; ``POST /__fake__/reset``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# Documented test credential of the fake, not a secret.
SECRET = "whsec-test-finagency"  # noqa: S105
HOOK_PATH = "/hook"


@dataclass
class _State:
    secret: str
    tolerance_seconds: int
    rate_limit: int
    window_seconds: float
    messages: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    receipts: dict[str, str] = field(default_factory=dict)
    fail: dict[str, Any] = field(default_factory=dict)
    drop_times: int = 0
    gone: bool = False
    received_at: list[float] = field(default_factory=list)


def create_app(
    *,
    secret: str = SECRET,
    tolerance_seconds: int = 300,
    rate_limit: int = 60,
    window_seconds: float = 60.0,
) -> Starlette:
    state = _State(secret, tolerance_seconds, rate_limit, window_seconds)

    def refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
        state.rejected.append({"status": status, "reason": reason})
        return JSONResponse({"error": reason}, status_code=status, headers=headers)

    def signature_problem(request: Request, body: bytes) -> str:
        timestamp = request.headers.get("x-finagency-timestamp", "")
        given = request.headers.get("x-finagency-signature", "")
        if not timestamp.isdigit() or not given.startswith("sha256="):
            return "missing signature"
        if abs(time.time() - int(timestamp)) > state.tolerance_seconds:
            return "stale timestamp"
        signed = timestamp.encode() + b"." + body
        expected = hmac.new(state.secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.removeprefix("sha256=")):
            return "invalid signature"
        return ""

    async def hook(request: Request) -> JSONResponse:
        if int(state.fail.get("times", 0)) > 0:
            state.fail["times"] -= 1
            status = int(state.fail.get("status", 500))
            retry = (
                {"Retry-After": str(state.fail.get("retry_after", 3))} if status == 429 else None
            )
            return refuse(status, "injected failure", retry)
        if state.gone:
            return refuse(410, "gone")
        body = await request.body()
        problem = signature_problem(request, body)
        if problem:
            return refuse(401, problem)
        try:
            event = json.loads(body)
        except ValueError:
            return refuse(400, "body is not JSON")
        event_id = request.headers.get("x-finagency-event-id", "")
        if not isinstance(event, dict) or event.get("id") != event_id or not event_id:
            return refuse(400, "event id header does not match the body")
        if event_id in state.receipts:
            return JSONResponse({"id": state.receipts[event_id], "duplicate": True})
        now = time.monotonic()
        state.received_at = [t for t in state.received_at if now - t < state.window_seconds]
        if len(state.received_at) >= state.rate_limit:
            wait = max(1, math.ceil(state.window_seconds - (now - state.received_at[0])))
            return refuse(429, "rate limited", {"Retry-After": str(wait)})
        state.received_at.append(now)
        receipt = f"rcv_{len(state.messages) + 1}"
        state.receipts[event_id] = receipt
        headers = {k: v for k, v in request.headers.items() if k.startswith("x-finagency-")}
        headers["idempotency-key"] = request.headers.get("idempotency-key", "")
        state.messages.append({"receipt": receipt, "event": event, "headers": headers})
        if state.drop_times > 0:
            state.drop_times -= 1
            return JSONResponse({"error": "internal error"}, status_code=500)
        return JSONResponse({"id": receipt, "duplicate": False})

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse(state.messages)

    async def rejected(request: Request) -> JSONResponse:
        return JSONResponse(state.rejected)

    async def fail(request: Request) -> JSONResponse:
        state.fail = dict(await request.json())
        return JSONResponse({"ok": True})

    async def drop(request: Request) -> JSONResponse:
        state.drop_times = int((await request.json()).get("times", 1))
        return JSONResponse({"ok": True})

    async def revoke(request: Request) -> JSONResponse:
        state.gone = True
        return JSONResponse({"ok": True})

    async def set_rate_limit(request: Request) -> JSONResponse:
        body = await request.json()
        state.rate_limit = int(body.get("limit", state.rate_limit))
        state.window_seconds = float(body.get("window_seconds", state.window_seconds))
        state.received_at.clear()
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> JSONResponse:
        state.messages.clear()
        state.rejected.clear()
        state.receipts.clear()
        state.received_at.clear()
        state.fail, state.drop_times, state.gone = {}, 0, False
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/__fake__/messages", messages, methods=["GET"]),
            Route("/__fake__/rejected", rejected, methods=["GET"]),
            Route("/__fake__/fail", fail, methods=["POST"]),
            Route("/__fake__/drop", drop, methods=["POST"]),
            Route("/__fake__/revoke", revoke, methods=["POST"]),
            Route("/__fake__/rate_limit", set_rate_limit, methods=["POST"]),
            Route("/__fake__/reset", reset, methods=["POST"]),
            Route(HOOK_PATH, hook, methods=["POST"]),
        ]
    )
