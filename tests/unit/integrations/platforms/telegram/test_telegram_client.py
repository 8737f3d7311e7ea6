"""Telegram client: exact requests, answers mapped to results and typed errors, UTF-16 limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import ImageAttachment, PostRequest
from finagency.integrations.platforms.telegram import (
    REQUIRED_CREDENTIALS,
    TelegramClient,
    build,
    utf16_length,
)
from finagency.integrations.platforms.types import Engagement

TOKEN = "123:abc"
CHAT = "@finagency_news"
MESSAGE = {
    "message_id": 42,
    "date": 1_767_225_600,
    "chat": {"id": -1001234567890, "type": "channel", "username": "finagency_news"},
    "text": "hi",
}


def _client(
    handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request] | None = None
) -> TelegramClient:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return TelegramClient(http, bot_token=TOKEN, chat_id=CHAT, base_url="https://tg.test")


def _ok(result: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json={"ok": True, "result": result})


def _error(
    code: int, description: str, **parameters: object
) -> Callable[[httpx.Request], httpx.Response]:
    body: dict[str, object] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return lambda request: httpx.Response(code, json=body)


async def test_send_message_is_plain_json_without_parse_mode() -> None:
    seen: list[httpx.Request] = []
    client = _client(_ok(MESSAGE), seen)
    post = await client.create_post(PostRequest(text="Rates *held* <b>", idempotency_key="k1"))

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"https://tg.test/bot{TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"chat_id": CHAT, "text": "Rates *held* <b>"}
    assert post.external_id == "-1001234567890:42"
    assert post.url == "https://t.me/finagency_news/42"
    assert post.published_at.timestamp() == 1_767_225_600


async def test_link_is_appended_once_and_previewed() -> None:
    seen: list[httpx.Request] = []
    client = _client(_ok(MESSAGE), seen)
    await client.create_post(
        PostRequest(text="CPI is out", idempotency_key="k", link="https://example.com/cpi")
    )
    await client.create_post(
        PostRequest(
            text="CPI https://example.com/cpi", idempotency_key="k2", link="https://example.com/cpi"
        )
    )
    first, second = (json.loads(r.content) for r in seen)
    assert first["text"] == "CPI is out\n\nhttps://example.com/cpi"
    assert first["link_preview_options"] == {"url": "https://example.com/cpi"}
    assert second["text"] == "CPI https://example.com/cpi"


async def test_image_goes_as_multipart_send_photo_with_caption() -> None:
    seen: list[httpx.Request] = []
    client = _client(_ok(MESSAGE | {"caption": "chart"}), seen)
    image = ImageAttachment(data=b"\x89PNG-bytes", mime_type="image/png", alt_text="chart")
    await client.create_post(PostRequest(text="Chart of the day", idempotency_key="k", image=image))

    (request,) = seen
    assert request.url.path == f"/bot{TOKEN}/sendPhoto"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'name="chat_id"\r\n\r\n@finagency_news' in body
    assert b'name="caption"\r\n\r\nChart of the day' in body
    assert b'name="photo"; filename="image.png"' in body
    assert b"Content-Type: image/png\r\n\r\n\x89PNG-bytes" in body


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("a" * 10, 10),
        ("\U0001f4c8", 2),  # chart emoji, outside the BMP: a surrogate pair
        ("\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", 11),  # family: 4 + 3 ZWJ
        ("\U0001f1fa\U0001f1f8", 4),  # flag: two regional indicators
        ("\u5229\u7387", 2),  # CJK in the BMP: one unit each
        ("\U00020000", 2),  # CJK extension B: outside the BMP
        ("e\u0301", 2),  # e + combining acute: two code points, two units
        ("\u00e9", 1),  # precomposed: one
        ("1\ufe0f\u20e3", 3),  # keycap: digit, VS16, U+20E3
    ],
)
def test_utf16_length_counts_code_units(text: str, units: int) -> None:
    assert utf16_length(text) == units


async def test_limits_are_checked_in_utf16_units_before_sending() -> None:
    seen: list[httpx.Request] = []
    client = _client(_ok(MESSAGE), seen)
    # 2048 emoji are 2048 code points but 4096 UTF-16 units: exactly at the limit.
    await client.create_post(PostRequest(text="📈" * 2048, idempotency_key="a"))
    with pytest.raises(PermanentExternalError, match="4098 UTF-16 units"):
        await client.create_post(PostRequest(text="📈" * 2049, idempotency_key="b"))
    image = ImageAttachment(data=b"x", mime_type="image/jpeg")
    with pytest.raises(PermanentExternalError, match="caption is 1026"):
        await client.create_post(PostRequest(text="😀" * 513, idempotency_key="c", image=image))
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (_error(401, "Unauthorized"), AuthExpiredError),
        (_error(403, "Forbidden: bot was blocked by the user"), AuthExpiredError),
        (_error(403, "Forbidden: bot was kicked from the channel chat"), AuthExpiredError),
        (_error(400, "Bad Request: chat not found"), AuthExpiredError),
        (_error(400, "Bad Request: message is too long"), PermanentExternalError),
        (_error(400, "Bad Request: can't parse entities"), PermanentExternalError),
        (_error(500, "Internal Server Error"), TransientExternalError),
        (lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"), TransientExternalError),
    ],
)
async def test_errors_map_to_typed_errors(
    handler: Callable[[httpx.Request], httpx.Response], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await _client(handler).create_post(PostRequest(text="hi", idempotency_key="k"))


async def test_429_retry_after_becomes_reset_time() -> None:
    client = _client(_error(429, "Too Many Requests: retry after 17", retry_after=17))
    before = utcnow()
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="hi", idempotency_key="k"))
    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert before + timedelta(seconds=17) <= reset_at <= utcnow() + timedelta(seconds=17)
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.remaining == 0
    assert client.last_rate_limit.reset_at == reset_at


async def test_transport_error_is_transient_and_hides_the_token() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    with pytest.raises(TransientExternalError) as caught:
        await _client(boom).create_post(PostRequest(text="hi", idempotency_key="k"))
    assert TOKEN not in str(caught.value)


async def test_migrated_group_is_followed_and_credentials_saved() -> None:
    chats: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        chat = json.loads(request.content)["chat_id"]
        chats.append(chat)
        if chat == "-4242":
            return _error(400, "Bad Request: group upgraded", migrate_to_chat_id=-100777)(request)
        return _ok(MESSAGE | {"chat": {"id": -100777, "type": "supergroup"}})(request)

    saved: list[dict[str, str]] = []

    async def save(credentials: dict[str, str]) -> None:
        saved.append(credentials)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = build({"bot_token": TOKEN, "chat_id": "-4242"}, http, on_credentials=save)
    post = await client.create_post(PostRequest(text="hi", idempotency_key="k"))
    assert chats == ["-4242", "-100777"]
    assert saved == [{"bot_token": TOKEN, "chat_id": "-100777"}]
    assert post.url == "https://t.me/c/777/42"


async def test_verify_calls_get_me_then_get_chat() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/getMe"):
            return _ok({"id": 7, "is_bot": True, "first_name": "Bot", "username": "b_bot"})(request)
        return _ok({"id": -1001, "type": "channel", "title": "News"})(request)

    identity = await _client(handler, seen).verify()
    assert [r.url.path for r in seen] == [f"/bot{TOKEN}/getMe", f"/bot{TOKEN}/getChat"]
    assert json.loads(seen[1].content) == {"chat_id": CHAT}
    assert (identity.id, identity.handle, identity.display_name) == ("7", "b_bot", "Bot")
    assert identity.extra["chat_title"] == "News"


async def test_no_read_back_and_no_engagement_without_any_request() -> None:
    seen: list[httpx.Request] = []
    client = _client(_ok(MESSAGE), seen)
    assert client.supports_read_back is False
    assert client.supports_idempotency_key is False
    assert await client.recent_posts() == []
    assert await client.find_post("k", "hi") is None
    assert await client.engagement("-100:1") == Engagement()
    assert seen == []


def test_build_names_missing_credentials() -> None:
    assert REQUIRED_CREDENTIALS == ("bot_token", "chat_id")
    http = httpx.AsyncClient(transport=httpx.MockTransport(_ok({})))
    with pytest.raises(PermanentExternalError, match="missing credentials chat_id"):
        build({"bot_token": TOKEN, "chat_id": " "}, http)
