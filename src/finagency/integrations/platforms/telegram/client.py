"""Telegram Bot API client: post to one chat or channel through ``sendMessage``/``sendPhoto``.

Facts (``reference/platforms.md`` §3): every method is ``POST {base_url}/bot<token>/<method>``;
answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after", "migrate_to_chat_id"}}`` with the HTTP status equal to
``error_code``. There are no rate-limit headers: a 429 carries ``parameters.retry_after``.
Text is at most 4096 and a photo caption at most 1024 UTF-16 code units of the rendered text.

We send plain text (no ``parse_mode``), so the approved text goes out exactly as approved:
no character is taken as markup and nothing needs escaping.

Error mapping:

- 401 (token revoked or regenerated in @BotFather) → ``AuthExpiredError``.
- 403 ("bot was blocked by the user", "bot was kicked from the channel chat", "bot is not a
  member") → ``AuthExpiredError``: no post can go out until a person re-adds the bot, so the
  account is paused instead of dead-lettering post after post.
- 400 "chat not found" → ``AuthExpiredError`` for the same reason (the configured chat is wrong).
- 400 with ``parameters.migrate_to_chat_id`` (a group became a supergroup): nothing was sent,
  so the client switches to the new chat id, hands the new credentials to ``on_credentials``
  and sends once more.
- 429 → ``RateLimitedExternalError`` with ``reset_at`` = now + ``retry_after``.
- other 4xx (e.g. "message is too long") → ``PermanentExternalError``; 5xx → transient.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import (
    AccountIdentity,
    CredentialsSaver,
    PostRequest,
    RateLimitInfo,
)
from finagency.integrations.platforms.http import excerpt
from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

DEFAULT_BASE_URL = "https://api.telegram.org"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_RULES = rules_for("telegram")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return _RULES.count(text)


def compose_text(request: PostRequest) -> str:
    """The text to send: the approved text, plus the link on its own line if not already in it."""
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n\n{request.link}"
    return text


class _ChatMigratedError(Exception):
    def __init__(self, new_chat_id: str) -> None:
        super().__init__(new_chat_id)
        self.new_chat_id = new_chat_id


class TelegramClient:
    """One bot posting into one chat (``chat_id`` is a number or ``@channelusername``)."""

    # The Bot API cannot list a chat's history (bots receive only updates, never their own
    # past messages), so a post whose answer was lost cannot be found again: a dropped
    # connection after sending leaves the post `unconfirmed` for a person to decide.
    supports_read_back = False
    # No idempotency key exists in the Bot API: a resend is a second message.
    supports_idempotency_key = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        bot_token: str,
        chat_id: str,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "telegram",
        on_credentials: CredentialsSaver | None = None,
    ) -> None:
        self.http = http
        self.bot_token = bot_token
        self.chat_id = chat_id
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.on_credentials = on_credentials
        self.last_rate_limit: RateLimitInfo | None = None

    async def create_post(self, request: PostRequest) -> PublishedPost:
        text = compose_text(request)
        if not text.strip():
            raise PermanentExternalError(f"{self.name}: refusing to send an empty message")
        limit = CAPTION_LIMIT if request.image else MESSAGE_LIMIT
        length = utf16_length(text)
        if length > limit:
            what = "photo caption" if request.image else "message"
            raise PermanentExternalError(
                f"{self.name}: {what} is {length} UTF-16 units; Telegram allows {limit}"
            )
        try:
            message = await self._send(request, text)
        except _ChatMigratedError as migrated:
            # Telegram refused the message (400) before sending it, so a resend is safe.
            self.chat_id = migrated.new_chat_id
            if self.on_credentials is not None:
                await self.on_credentials({"bot_token": self.bot_token, "chat_id": self.chat_id})
            message = await self._send(request, text)
        return self._published(message)

    async def _send(self, request: PostRequest, text: str) -> dict[str, Any]:
        if request.image is None:
            payload: dict[str, Any] = {"chat_id": self.chat_id, "text": text}
            if request.link:
                payload["link_preview_options"] = {"url": request.link}
            return await self._call("sendMessage", json=payload)
        extension = request.image.mime_type.rpartition("/")[2] or "bin"
        # Telegram has no alt text for photos; the caption is the accessible description.
        return await self._call(
            "sendPhoto",
            data={"chat_id": self.chat_id, "caption": text},
            files={"photo": (f"image.{extension}", request.image.data, request.image.mime_type)},
        )

    def _published(self, message: dict[str, Any]) -> PublishedPost:
        chat = message.get("chat") or {}
        chat_id = str(chat.get("id", self.chat_id))
        message_id = str(message.get("message_id", ""))
        if not message_id:
            raise TransientExternalError(f"{self.name}: sendMessage answered without message_id")
        date = message.get("date")
        published_at = datetime.fromtimestamp(date, tz=UTC) if isinstance(date, int) else utcnow()
        # message_id is unique only within its chat, so the id carries both.
        return PublishedPost(
            external_id=f"{chat_id}:{message_id}",
            url=message_url(chat, message_id),
            published_at=published_at,
        )

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        """Always empty: the Bot API offers no way to list a chat's messages."""
        return []

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """Always ``None``: see ``supports_read_back``."""
        return None

    async def engagement(self, external_id: str) -> Engagement:
        """Zeros: the Bot API exposes no view or forward counts, and reactions only arrive as
        updates to a bot that is a chat admin polling for them (not done here)."""
        return Engagement()

    async def verify(self) -> AccountIdentity:
        """``getMe`` (the token works) then ``getChat`` (the bot can see the configured chat)."""
        me = await self._call("getMe")
        chat = await self._call("getChat", json={"chat_id": self.chat_id})
        return AccountIdentity(
            id=str(me.get("id", "")),
            handle=str(me.get("username", "")),
            display_name=str(me.get("first_name", "")),
            extra={
                "chat_id": str(chat.get("id", self.chat_id)),
                "chat_title": str(chat.get("title") or chat.get("username") or ""),
                "chat_type": str(chat.get("type", "")),
            },
        )

    async def _call(
        self,
        method: str,
        *,
        json: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.base_url}/bot{self.bot_token}/{method}"
        try:
            response = await self.http.post(url, json=json, data=data, files=files)
        except httpx.HTTPError as error:
            # The token sits in the URL: never let it reach an error message.
            raise TransientExternalError(
                f"{self.name}: {type(error).__name__} on {method}; the message may have been sent"
            ) from None
        return self._result(response, method)

    def _result(self, response: httpx.Response, method: str) -> dict[str, Any]:
        body = _json_object(response)
        if body is not None and body.get("ok") is True and response.status_code < 300:
            self.last_rate_limit = RateLimitInfo(scope=f"chat:{self.chat_id}")
            result = body.get("result")
            return result if isinstance(result, dict) else {"value": result}
        body = body or {}
        status = int(body.get("error_code") or response.status_code)
        description = str(body.get("description") or excerpt(response))
        parameters = body.get("parameters") or {}
        what = f"{self.name}: {method} failed ({status}): {description}"
        if status == 429:
            reset_at = utcnow() + timedelta(seconds=float(parameters.get("retry_after") or 1))
            self.last_rate_limit = RateLimitInfo(
                remaining=0, reset_at=reset_at, scope=f"chat:{self.chat_id}"
            )
            raise RateLimitedExternalError(what, reset_at=reset_at)
        self.last_rate_limit = RateLimitInfo(scope=f"chat:{self.chat_id}")
        if parameters.get("migrate_to_chat_id") is not None:
            raise _ChatMigratedError(str(parameters["migrate_to_chat_id"]))
        lowered = description.lower()
        if status in (401, 403) or (status == 400 and "chat not found" in lowered):
            raise AuthExpiredError(what)
        if status >= 500 or status in (408, 425) or status < 400:
            raise TransientExternalError(what)
        raise PermanentExternalError(what)


def message_url(chat: dict[str, Any], message_id: str) -> str:
    """Public link for channels/groups with a username; ``t.me/c/`` (members only) for private
    supergroups and channels; empty for private chats, which have no link."""
    username = chat.get("username")
    if username:
        return f"https://t.me/{username}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return ""


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
