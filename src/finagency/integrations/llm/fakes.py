"""Local fake LLM servers speaking the real wire formats, for tests, demos and offline runs.

``create_openai_fake()`` answers ``POST /v1/chat/completions`` like OpenAI (and Ollama,
vLLM, LM Studio); ``create_anthropic_fake()`` answers ``POST /v1/messages`` like Anthropic,
requiring an ``anthropic-version`` header (a YYYY-MM-DD date) and a key, as ``x-api-key``
or, as current SDKs send it, ``Authorization: Bearer``. Both reply deterministically:
a short finance sentence built from the first numeric fact of the fact sheet JSON found in
the user prompt, so the reply uses only numbers the prompt contains. Token counts are about
one per four characters. Every request body is kept in ``app.state.requests``.

The behaviour is chosen per request by the ``X-Fake-Mode`` header or, failing that, by an
API key of the form ``fake-<mode>`` (any other key means ``ok``):

    ok              200 with a reply
    unauthorized    401 authentication error (also: no API key at all)
    forbidden       403 permission error
    rate_limited    429 with ``Retry-After: 7`` (seconds)
    quota           billing: OpenAI's 429 insufficient_quota (no Retry-After), Anthropic's
                    400 "credit balance is too low"
    bad_request     400 invalid request
    server_error    500
    overloaded      529 overloaded_error (Anthropic's shape; the OpenAI fake sends 503)
    refusal         200 with a refusal (OpenAI ``message.refusal``; Anthropic
                    ``stop_reason: "refusal"``)
    content_filter  200 with ``finish_reason: "content_filter"`` (OpenAI only)
    slow            the reply after ``slow_seconds`` (default 5), for timeouts
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MODES: tuple[str, ...] = (
    "ok",
    "unauthorized",
    "forbidden",
    "rate_limited",
    "quota",
    "bad_request",
    "server_error",
    "overloaded",
    "refusal",
    "content_filter",
    "slow",
)
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RETRY_AFTER_SECONDS = 7
REFUSAL_TEXT = "I can't help with writing that post."
_CREATED = 1_700_000_000  # fixed so replies are byte-for-byte deterministic


def fake_reply(prompt: str) -> str:
    """A one-sentence post that only uses numbers present in ``prompt``."""
    start, end = prompt.find("{"), prompt.rfind("}")
    sheet: Any = None
    if 0 <= start < end:
        try:
            sheet = json.loads(prompt[start : end + 1])
        except ValueError:
            sheet = None
    if not isinstance(sheet, dict):
        return "Markets update: no figures were provided, so none are quoted."
    subject = str(sheet.get("subject") or "The market")
    for fact in sheet.get("facts") or []:
        if not isinstance(fact, dict):
            continue
        value = fact.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            label = str(fact.get("label") or fact.get("key") or "value")
            unit = str(fact.get("unit") or "")
            source = str(fact.get("source") or "")
            sentence = f"{subject}: {label} {json.dumps(value)}{' ' + unit if unit else ''}"
            return f"{sentence} (source: {source})." if source else f"{sentence}."
    return f"{subject}: an update with no figures to quote."


def _fake_id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _mode(request: Request, api_key: str) -> str:
    header = request.headers.get("x-fake-mode", "").strip().lower()
    if header:
        return header
    if api_key.startswith("fake-") and api_key[5:] in MODES:
        return api_key[5:]
    return "ok"


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# --- OpenAI ---------------------------------------------------------------------------


def _openai_error(status: int, message: str, kind: str, code: str | None) -> JSONResponse:
    headers = {"retry-after": str(RETRY_AFTER_SECONDS)} if code == "rate_limit_exceeded" else None
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


_OPENAI_FAILURES: dict[str, tuple[int, str, str, str | None]] = {
    "unauthorized": (
        401,
        "Incorrect API key provided.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "forbidden": (403, "You are not allowed to use this model.", "invalid_request_error", None),
    "rate_limited": (429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    "quota": (429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"),
    "bad_request": (400, "Invalid value for 'messages'.", "invalid_request_error", None),
    "server_error": (500, "The server had an error.", "server_error", None),
    "overloaded": (503, "The engine is currently overloaded.", "server_error", None),
}


def _completion(
    model: str, content: str | None, refusal: str | None, finish: str, prompt: str
) -> dict[str, Any]:
    completion_tokens = _tokens(content or refusal or "")
    prompt_tokens = _tokens(prompt)
    return {
        "id": _fake_id("chatcmpl-", model, prompt),
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def create_openai_fake(*, slow_seconds: float = 5.0) -> Starlette:
    """A fake OpenAI-compatible server (``POST /v1/chat/completions``)."""
    requests: list[dict[str, Any]] = []

    async def chat_completions(request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization", "")
        api_key = authorization.removeprefix("Bearer ").strip()
        if not api_key:
            return _openai_error(
                401, "You didn't provide an API key.", "invalid_request_error", None
            )
        mode = _mode(request, api_key)
        if mode in _OPENAI_FAILURES:
            return _openai_error(*_OPENAI_FAILURES[mode])
        body = await _json_body(request)
        messages = body.get("messages") if body else None
        if body is None or not isinstance(body.get("model"), str) or not messages:
            return _openai_error(
                400, "'model' and 'messages' are required.", "invalid_request_error", None
            )
        requests.append(body)
        if mode == "slow":
            await asyncio.sleep(slow_seconds)
        prompt = "\n".join(
            str(message.get("content", "")) for message in messages if isinstance(message, dict)
        )
        user = next(
            (
                str(message.get("content", ""))
                for message in reversed(messages)
                if isinstance(message, dict) and message.get("role") == "user"
            ),
            "",
        )
        model = body["model"]
        if mode == "refusal":
            return JSONResponse(_completion(model, None, REFUSAL_TEXT, "stop", prompt))
        if mode == "content_filter":
            return JSONResponse(_completion(model, None, None, "content_filter", prompt))
        return JSONResponse(_completion(model, fake_reply(user), None, "stop", prompt))

    app = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])
    app.state.requests = requests
    return app


# --- Anthropic ------------------------------------------------------------------------


def _anthropic_error(status: int, kind: str, message: str) -> JSONResponse:
    headers = {"request-id": "req_fake"}
    if status == 429:
        headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


_ANTHROPIC_FAILURES: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "authentication_error", "invalid x-api-key"),
    "forbidden": (403, "permission_error", "Your API key does not have permission."),
    "rate_limited": (429, "rate_limit_error", "Number of requests has exceeded your rate limit."),
    "quota": (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API.",
    ),
    "bad_request": (400, "invalid_request_error", "messages: field required"),
    "server_error": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
}


def create_anthropic_fake(*, slow_seconds: float = 5.0) -> Starlette:
    """A fake Anthropic Messages API (``POST /v1/messages``)."""
    requests: list[dict[str, Any]] = []

    async def messages(request: Request) -> JSONResponse:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        api_key = (request.headers.get("x-api-key") or bearer).strip()
        if not api_key:
            return _anthropic_error(401, "authentication_error", "x-api-key header is required")
        version = request.headers.get("anthropic-version", "")
        if not _API_VERSION.match(version):
            return _anthropic_error(
                400,
                "invalid_request_error",
                f"anthropic-version: header is required, got {version!r}",
            )
        mode = _mode(request, api_key)
        if mode in _ANTHROPIC_FAILURES:
            return _anthropic_error(*_ANTHROPIC_FAILURES[mode])
        body = await _json_body(request)
        turns = body.get("messages") if body else None
        if (
            body is None
            or not isinstance(body.get("model"), str)
            or not isinstance(body.get("max_tokens"), int)
            or not turns
        ):
            return _anthropic_error(
                400, "invalid_request_error", "model, max_tokens and messages are required"
            )
        requests.append(body)
        if mode == "slow":
            await asyncio.sleep(slow_seconds)
        user = "\n".join(
            str(turn.get("content", ""))
            for turn in turns
            if isinstance(turn, dict) and turn.get("role") == "user"
        )
        prompt = f"{body.get('system', '')}\n{user}"
        refused = mode == "refusal"
        text = "" if refused else fake_reply(user)
        return JSONResponse(
            {
                "id": _fake_id("msg_", body["model"], prompt),
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [] if refused else [{"type": "text", "text": text}],
                "stop_reason": "refusal" if refused else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": _tokens(prompt), "output_tokens": _tokens(text)},
            },
            headers={"request-id": "req_fake"},
        )

    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.requests = requests
    return app
