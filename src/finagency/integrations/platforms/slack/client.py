"""Slack client: ``chat.postMessage`` with a bot token, or an incoming webhook.

Facts (``reference/platforms.md`` §7):

- Web API: ``POST {base_url}/api/<method>`` with ``Authorization: Bearer xoxb-…`` and a JSON body
  (``Content-Type: application/json; charset=utf-8``). ``chat.postMessage`` answers
  ``{"ok": true, "channel", "ts"}``; (channel, ts) is the message, so ``external_id`` is
  ``"<channel>:<ts>"``. Errors come inside HTTP 200 (``{"ok": false, "error": …}``).
- Incoming webhook: ``POST <webhook_url>`` with ``{"text": …}``; success is HTTP 200 with the
  plain-text body ``ok`` and no message id, so ``external_id`` and ``url`` are empty.
- Rate limits: HTTP 429 with ``Retry-After`` (seconds); no figures on other answers.

Text goes out as approved: ``&``, ``<`` and ``>`` are escaped as Slack requires (which also
stops user text from forming ``<!channel>`` pings or disguised links), and ``mrkdwn: false``
keeps ``*`` and ``_`` literal. An image needs the bot token: it is uploaded with
``files.getUploadURLExternal`` → POST to the upload URL → ``files.completeUploadExternal``
(the text becomes the file's ``initial_comment``; ``external_id`` is ``"file:<F…>"``). An
incoming webhook cannot carry an uploaded image, so that is refused before anything is sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from finagency.core.errors import (
    ExternalError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import AccountIdentity, PostRequest, RateLimitInfo
from finagency.integrations.platforms.http import excerpt
from finagency.integrations.platforms.slack.errors import (
    EMPTY_PAYLOAD_CODES,
    error_for,
    rate_limit_of,
)
from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.types import Engagement, PublishedPost, RemotePost

DEFAULT_BASE_URL = "https://slack.com"
TEXT_LIMIT = 40_000
_RULES = rules_for("slack")


def escape(text: str) -> str:
    """Slack's three control characters, escaped so the text shows exactly as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compose_text(request: PostRequest) -> str:
    text = request.text
    if request.link and request.link not in text:
        text = f"{text}\n\n{request.link}"
    return text


class SlackClient:
    """Web API mode when ``bot_token`` and ``channel`` are set, incoming-webhook mode otherwise."""

    # Slack could list a channel with conversations.history, but only with history scopes a
    # posting bot is not given, and an incoming webhook cannot read at all; so a post whose
    # answer was lost cannot be found again and goes to `unconfirmed`.
    supports_read_back = False
    # Neither chat.postMessage nor incoming webhooks take an idempotency key.
    supports_idempotency_key = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        bot_token: str = "",
        channel: str = "",
        webhook_url: str = "",
        base_url: str = DEFAULT_BASE_URL,
        name: str = "slack",
    ) -> None:
        if not (bot_token and channel) and not webhook_url:
            raise PermanentExternalError(f"{name}: needs bot_token and channel, or webhook_url")
        self.http = http
        self.bot_token = bot_token
        self.channel = channel
        self.webhook_url = webhook_url
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.last_rate_limit: RateLimitInfo | None = None

    @property
    def uses_web_api(self) -> bool:
        return bool(self.bot_token and self.channel)

    async def create_post(self, request: PostRequest) -> PublishedPost:
        text = compose_text(request)
        if not text.strip():
            raise PermanentExternalError(f"{self.name}: refusing to send an empty message")
        if _RULES.count(text) > TEXT_LIMIT:
            raise PermanentExternalError(
                f"{self.name}: text is {_RULES.count(text)} characters; Slack keeps {TEXT_LIMIT}"
            )
        if not self.uses_web_api:
            if request.image is not None:
                raise PermanentExternalError(
                    f"{self.name}: an incoming webhook cannot post an uploaded image;"
                    " connect Slack with a bot token (files:write) to post images"
                )
            await self._webhook({"text": escape(text), "unfurl_links": bool(request.link)})
            return PublishedPost(external_id="", url="", published_at=utcnow())
        if request.image is not None:
            return await self._upload(request, text)
        body = {
            "channel": self.channel,
            "text": escape(text),
            "mrkdwn": False,
            "unfurl_links": bool(request.link),
            "unfurl_media": True,
        }
        answer = await self._api("chat.postMessage", body)
        channel, ts = str(answer.get("channel", self.channel)), str(answer.get("ts", ""))
        if not ts:
            raise TransientExternalError(f"{self.name}: chat.postMessage answered without ts")
        return PublishedPost(
            external_id=f"{channel}:{ts}",
            url=await self._permalink(channel, ts),
            published_at=_ts_moment(ts),
        )

    async def _upload(self, request: PostRequest, text: str) -> PublishedPost:
        image = request.image
        assert image is not None
        filename = f"image.{image.mime_type.rpartition('/')[2] or 'bin'}"
        ticket = await self._api(
            "files.getUploadURLExternal",
            form={"filename": filename, "length": str(len(image.data)), "alt_txt": image.alt_text},
        )
        upload_url, file_id = str(ticket.get("upload_url", "")), str(ticket.get("file_id", ""))
        if not upload_url or not file_id:
            raise TransientExternalError(f"{self.name}: no upload_url in the upload ticket")
        try:
            uploaded = await self.http.post(
                upload_url, files={"file": (filename, image.data, image.mime_type)}
            )
        except httpx.HTTPError as error:
            raise TransientExternalError(f"{self.name}: upload: {type(error).__name__}") from None
        if uploaded.status_code != 200:
            raise self._error("", f"{self.name}: upload failed: {excerpt(uploaded)}", uploaded)
        done = await self._api(
            "files.completeUploadExternal",
            {
                "files": [{"id": file_id, "title": image.alt_text or filename}],
                "channel_id": self.channel,
                "initial_comment": escape(text),
            },
        )
        files = done.get("files") or [{}]
        permalink = files[0].get("permalink", "") if isinstance(files[0], dict) else ""
        return PublishedPost(external_id=f"file:{file_id}", url=permalink, published_at=utcnow())

    async def _permalink(self, channel: str, ts: str) -> str:
        """Best effort: the message is already out, so a failure here only costs the link."""
        try:
            answer = await self._api(
                "chat.getPermalink", params={"channel": channel, "message_ts": ts}
            )
        except ExternalError:
            return ""
        return str(answer.get("permalink", ""))

    async def recent_posts(self, limit: int = 20) -> list[RemotePost]:
        """Always empty: see ``supports_read_back``."""
        return []

    async def find_post(self, idempotency_key: str, text: str) -> RemotePost | None:
        """Always ``None``: see ``supports_read_back``."""
        return None

    async def engagement(self, external_id: str) -> Engagement:
        """Reactions (as likes) and thread replies from ``reactions.get`` (scope
        ``reactions:read``). Incoming-webhook posts have no id: zeros. Slack has no views."""
        if not self.uses_web_api or not external_id:
            return Engagement()
        if external_id.startswith("file:"):
            params = {"file": external_id.removeprefix("file:"), "full": "true"}
        else:
            channel, _, ts = external_id.partition(":")
            params = {"channel": channel, "timestamp": ts, "full": "true"}
        answer = await self._api("reactions.get", params=params)
        item = answer.get("message") or answer.get("file") or {}
        reactions = item.get("reactions") or []
        return Engagement(
            likes=sum(int(r.get("count", 0)) for r in reactions if isinstance(r, dict)),
            replies=int(item.get("reply_count", 0)),
        )

    async def verify(self) -> AccountIdentity:
        """Web API: ``auth.test``. Webhook: POST an empty payload, which a live webhook refuses
        with ``no_text`` (posting nothing) and a dead one with ``invalid_token``/``no_service``."""
        if self.uses_web_api:
            answer = await self._api("auth.test", {})
            return AccountIdentity(
                id=str(answer.get("user_id", "")),
                handle=str(answer.get("user", "")),
                display_name=str(answer.get("team", "")),
                extra={
                    "team_id": str(answer.get("team_id", "")),
                    "url": str(answer.get("url", "")),
                    "channel": self.channel,
                },
            )
        response = await self._send_webhook({})
        code = response.text.strip()
        if response.status_code == 200 or code in EMPTY_PAYLOAD_CODES:
            parts = urlsplit(self.webhook_url).path.split("/")
            hook_id = "/".join(parts[2:4]) if len(parts) >= 4 else ""
            return AccountIdentity(id=hook_id, handle="incoming-webhook")
        raise self._error(code, f"{self.name}: webhook check failed: {code}", response)

    async def _webhook(self, payload: dict[str, Any]) -> None:
        response = await self._send_webhook(payload)
        code = response.text.strip()
        if response.status_code == 200 and code == "ok":
            return
        raise self._error(
            code, f"{self.name}: webhook refused ({response.status_code}): {code}", response
        )

    async def _send_webhook(self, payload: dict[str, Any]) -> httpx.Response:
        try:
            response = await self.http.post(
                self.webhook_url,
                content=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except httpx.HTTPError as error:
            # The webhook URL is the secret: keep it out of messages.
            raise TransientExternalError(
                f"{self.name}: {type(error).__name__}; the message may have been sent"
            ) from None
        self.last_rate_limit = rate_limit_of(response, "incoming-webhook")
        return response

    async def _api(
        self,
        method: str,
        body: dict[str, Any] | None = None,
        *,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Call a Web API method: JSON ``body`` (POST), ``form`` (POST) or ``params`` (GET)."""
        url = f"{self.base_url}/api/{method}"
        headers = {"Authorization": f"Bearer {self.bot_token}"}
        try:
            if body is not None:
                headers["Content-Type"] = "application/json; charset=utf-8"
                response = await self.http.post(
                    url, content=json.dumps(body).encode(), headers=headers
                )
            elif form is not None:
                response = await self.http.post(url, data=form, headers=headers)
            else:
                response = await self.http.get(url, params=params, headers=headers)
        except httpx.HTTPError as error:
            raise TransientExternalError(
                f"{self.name}: {type(error).__name__} on {method}; the call may have taken effect"
            ) from None
        self.last_rate_limit = rate_limit_of(response, method)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("ok") is True and response.status_code == 200:
            return answer
        code = str(answer.get("error", "")) if isinstance(answer, dict) else ""
        what = f"{self.name}: {method} failed (HTTP {response.status_code}): {code or excerpt(response)}"
        raise self._error(code, what, response)

    def _error(self, code: str, what: str, response: httpx.Response) -> ExternalError:
        """The typed error; a rate limit is also recorded in ``last_rate_limit``."""
        known = self.last_rate_limit.reset_at if self.last_rate_limit else None
        error = error_for(code, what, response, reset_at=known)
        if isinstance(error, RateLimitedExternalError):
            scope = self.last_rate_limit.scope if self.last_rate_limit else ""
            self.last_rate_limit = RateLimitInfo(remaining=0, reset_at=error.reset_at, scope=scope)
        return error


def _ts_moment(ts: str) -> datetime:
    """A Slack ``ts`` is the message's epoch time with microseconds."""
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except ValueError:
        return utcnow()
