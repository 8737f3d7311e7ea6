"""Bluesky client against MockTransport: exact XRPC requests, sessions, errors and rate limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    ExternalError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import Credentials, ImageAttachment, PostRequest
from finagency.integrations.platforms.bluesky import (
    DEFAULT_PDS,
    REQUIRED_CREDENTIALS,
    BlueskyClient,
    build,
    record_key,
)

PDS = "https://pds.example"
DID = "did:plc:abc"
NOW = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
SESSION = {"identifier": "fin.example", "app_password": "pw", "did": DID, "handle": "fin.example"}
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("finagency.integrations.platforms.bluesky.client.utcnow", lambda: NOW)


def recording(answers: list[httpx.Response]) -> tuple[list[httpx.Request], Handler]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return seen, handle


def xrpc_error(code: int, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(code, json={"error": name, "message": f"{name}!"}, headers=headers)


def created(rkey: str = "3kaaaaaaaaaaa") -> httpx.Response:
    return httpx.Response(
        200, json={"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": f"cid-{rkey}"}
    )


def client_for(
    handler: Handler, credentials: Credentials | None = None, saved: list[Credentials] | None = None
) -> BlueskyClient:
    async def save(new: Credentials) -> None:
        if saved is not None:
            saved.append(new)

    return BlueskyClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        credentials=credentials or {**SESSION, "access_jwt": "A1", "refresh_jwt": "R1"},
        base_url=PDS,
        on_credentials=save,
    )


async def test_first_call_logs_in_and_saves_the_session() -> None:
    session = {"accessJwt": "A1", "refreshJwt": "R1", "handle": "fin.example", "did": DID}
    seen, handle = recording([httpx.Response(200, json=session), created()])
    saved: list[Credentials] = []
    client = client_for(handle, {"identifier": "fin.example", "app_password": "pw"}, saved)

    await client.create_post(PostRequest(text="hi", idempotency_key="k"))

    login = seen[0]
    assert (login.method, str(login.url)) == (
        "POST",
        f"{PDS}/xrpc/com.atproto.server.createSession",
    )
    assert "authorization" not in login.headers
    assert json.loads(login.content) == {"identifier": "fin.example", "password": "pw"}
    assert saved == [{**SESSION, "access_jwt": "A1", "refresh_jwt": "R1"}]
    assert seen[1].headers["authorization"] == "Bearer A1"


async def test_create_post_sends_record_with_rkey_facets_and_card() -> None:
    seen, handle = recording([created()])
    client = client_for(handle)
    text = "📈 日本 CPI https://stats.example/cpi"

    published = await client.create_post(
        PostRequest(text=text, idempotency_key="k-9", link="https://stats.example/cpi")
    )

    (request,) = seen
    assert (request.method, str(request.url)) == (
        "POST",
        f"{PDS}/xrpc/com.atproto.repo.createRecord",
    )
    assert request.headers["authorization"] == "Bearer A1"
    assert json.loads(request.content) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": record_key("k-9"),
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": "2026-05-01T12:00:00.123Z",
            "langs": ["en"],
            "facets": [
                {
                    "index": {"byteStart": 16, "byteEnd": 41},
                    "features": [
                        {
                            "$type": "app.bsky.richtext.facet#link",
                            "uri": "https://stats.example/cpi",
                        }
                    ],
                }
            ],
            "embed": {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": "https://stats.example/cpi",
                    "title": "stats.example/cpi",
                    "description": "",
                },
            },
        },
    }
    assert published.external_id == f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaaaa"
    assert published.url == "https://bsky.app/profile/fin.example/post/3kaaaaaaaaaaa"
    assert published.published_at == NOW


async def test_image_is_uploaded_as_a_blob_and_embedded() -> None:
    blob = {"$type": "blob", "ref": {"$link": "bafk"}, "mimeType": "image/png", "size": 3}
    seen, handle = recording([httpx.Response(200, json={"blob": blob}), created()])
    image = ImageAttachment(data=b"png", mime_type="image/png", alt_text="CPI chart")

    await client_for(handle).create_post(PostRequest(text="c", idempotency_key="k", image=image))

    upload, create = seen
    assert str(upload.url) == f"{PDS}/xrpc/com.atproto.repo.uploadBlob"
    assert (upload.content, upload.headers["content-type"]) == (b"png", "image/png")
    assert json.loads(create.content)["record"]["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [{"image": blob, "alt": "CPI chart"}],
    }


async def test_thread_posts_carry_root_and_parent_refs() -> None:
    seen, handle = recording(
        [created("3kaaaaaaaaaa1"), created("3kaaaaaaaaaa2"), created("3kaaaaaaaaaa3")]
    )

    await client_for(handle).create_post(
        PostRequest(text="abc", idempotency_key="t", parts=("a (1/3)", "b (2/3)", "c (3/3)"))
    )

    bodies = [json.loads(r.content) for r in seen]
    root = {"uri": f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaaa1", "cid": "cid-3kaaaaaaaaaa1"}
    second = {"uri": f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaaa2", "cid": "cid-3kaaaaaaaaaa2"}
    assert "reply" not in bodies[0]["record"]
    assert bodies[1]["record"]["reply"] == {"root": root, "parent": root}
    assert bodies[2]["record"]["reply"] == {"root": root, "parent": second}
    assert [b["rkey"] for b in bodies] == [record_key("t", i) for i in range(3)]


async def test_expired_token_is_refreshed_saved_then_retried_once() -> None:
    events: list[str] = []
    seen, handle = recording(
        [
            xrpc_error(400, "ExpiredToken"),
            httpx.Response(200, json={"accessJwt": "A2", "refreshJwt": "R2", "did": DID}),
            created(),
        ]
    )

    class Saver(list[Credentials]):
        async def __call__(self, new: Credentials) -> None:
            events.append(f"saved {new['access_jwt']}")
            self.append(new)

    saver = Saver()

    def traced(request: httpx.Request) -> httpx.Response:
        events.append(request.url.path)
        return handle(request)

    client = BlueskyClient(
        httpx.AsyncClient(transport=httpx.MockTransport(traced)),
        credentials={**SESSION, "access_jwt": "A1", "refresh_jwt": "R1"},
        base_url=PDS,
        on_credentials=saver,
    )

    await client.create_post(PostRequest(text="hi", idempotency_key="k"))

    refresh = seen[1]
    assert str(refresh.url) == f"{PDS}/xrpc/com.atproto.server.refreshSession"
    assert refresh.headers["authorization"] == "Bearer R1"
    assert seen[2].headers["authorization"] == "Bearer A2"
    assert saver[0]["access_jwt"] == "A2" and saver[0]["refresh_jwt"] == "R2"
    assert events[-2:] == ["saved A2", "/xrpc/com.atproto.repo.createRecord"]


async def test_dead_refresh_token_falls_back_to_login() -> None:
    seen, handle = recording(
        [
            xrpc_error(400, "ExpiredToken"),
            xrpc_error(400, "ExpiredToken"),
            httpx.Response(200, json={"accessJwt": "A3", "refreshJwt": "R3", "did": DID}),
            created(),
        ]
    )
    saved: list[Credentials] = []

    await client_for(handle, saved=saved).create_post(PostRequest(text="x", idempotency_key="k"))

    assert [r.url.path.rsplit(".", 1)[-1] for r in seen] == [
        "createRecord",
        "refreshSession",
        "createSession",
        "createRecord",
    ]
    assert saved[-1]["access_jwt"] == "A3"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (xrpc_error(400, "InvalidToken"), AuthExpiredError),
        (xrpc_error(401, "AuthMissing"), AuthExpiredError),
        (xrpc_error(401, "AuthRequired"), AuthExpiredError),
        (xrpc_error(400, "InvalidRequest"), PermanentExternalError),
        (xrpc_error(400, "InvalidSwap"), PermanentExternalError),
        (xrpc_error(429, "RateLimitExceeded"), RateLimitedExternalError),
        (xrpc_error(503, "ServiceUnavailable"), TransientExternalError),
    ],
)
async def test_error_answers_become_typed_errors(
    answer: httpx.Response, expected: type[ExternalError]
) -> None:
    _, handle = recording([answer])

    with pytest.raises(expected):
        await client_for(handle).verify()


async def test_wrong_app_password_is_auth_expired() -> None:
    _, handle = recording([xrpc_error(401, "AuthenticationRequired")])
    client = client_for(handle, {"identifier": "fin.example", "app_password": "wrong"})

    with pytest.raises(AuthExpiredError, match="AuthenticationRequired"):
        await client.verify()


async def test_rate_limit_headers_and_429_reset_in_epoch_seconds() -> None:
    headers = {
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "1777636800",
        "RateLimit-Policy": "3000;w=300",
    }
    session = {"did": DID, "handle": "fin.example"}
    _, handle = recording(
        [
            httpx.Response(200, json=session, headers={**headers, "RateLimit-Remaining": "5"}),
            xrpc_error(429, "RateLimitExceeded", headers),
        ]
    )
    client = client_for(handle)
    reset = datetime.fromtimestamp(1777636800, tz=UTC)

    identity = await client.verify()
    assert (identity.id, identity.handle) == (DID, "fin.example")
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.remaining == 5
    assert (client.last_rate_limit.reset_at, client.last_rate_limit.scope) == (reset, "3000;w=300")
    with pytest.raises(RateLimitedExternalError) as raised:
        await client.verify()
    assert raised.value.reset_at == reset


async def test_find_post_gets_the_record_by_derived_rkey() -> None:
    value = {"text": "hi", "createdAt": "2026-05-01T12:00:00.000Z"}
    uri = f"at://{DID}/app.bsky.feed.post/{record_key('k')}"
    seen, handle = recording([httpx.Response(200, json={"uri": uri, "cid": "c", "value": value})])

    found = await client_for(handle).find_post("k", "hi")

    assert (seen[0].method, seen[0].url.path) == ("GET", "/xrpc/com.atproto.repo.getRecord")
    assert dict(seen[0].url.params) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": record_key("k"),
    }
    assert found is not None and (found.external_id, found.idempotency_key) == (uri, "k")


async def test_engagement_reads_counts_from_get_posts() -> None:
    uri = f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaaaa"
    post = {"uri": uri, "likeCount": 5, "repostCount": 2, "replyCount": 1, "quoteCount": 0}
    seen, handle = recording([httpx.Response(200, json={"posts": [post]})])

    engagement = await client_for(handle).engagement(uri)

    assert seen[0].url.path == "/xrpc/app.bsky.feed.getPosts"
    assert seen[0].url.params.get_list("uris") == [uri]
    assert (engagement.likes, engagement.reposts, engagement.replies) == (5, 2, 1)


def test_build_requires_identifier_and_app_password() -> None:
    http = httpx.AsyncClient()
    assert REQUIRED_CREDENTIALS == ("identifier", "app_password")
    with pytest.raises(PermanentExternalError, match="app_password"):
        build({"identifier": "fin.example"}, http)
    client = build({"identifier": "fin.example", "app_password": "pw"}, http)
    assert isinstance(client, BlueskyClient)
    assert client.base_url == DEFAULT_PDS == "https://bsky.social"
    assert (client.supports_idempotency_key, client.supports_read_back) == (True, True)
    assert isinstance(build(SESSION, http, base_url=PDS), BlueskyClient)
