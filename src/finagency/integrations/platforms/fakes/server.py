"""Every fake platform in one app, each under its own prefix (`finagency fake-platforms`)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from finagency.integrations.platforms.fakes import (
    bluesky,
    discord,
    linkedin,
    mastodon,
    slack,
    telegram,
    webhook,
    x,
)

FAKES: dict[str, Callable[[], Starlette]] = {
    "x": x.create_app,
    "linkedin": linkedin.create_app,
    "telegram": telegram.create_app,
    "mastodon": mastodon.create_app,
    "bluesky": bluesky.create_app,
    "discord": discord.create_app,
    "slack": slack.create_app,
    "webhook": webhook.create_app,
}

# Credentials each fake accepts (see each fake module's docstring), for the demo and the CLI.
TEST_CREDENTIALS: dict[str, dict[str, str]] = {
    "x": {
        "access_token": "x-test-access-token",
        "refresh_token": "x-test-refresh-token",
        "client_id": "x-test-client-id",
    },
    "linkedin": {
        "access_token": "li-test-access-token",
        "author_urn": "urn:li:organization:5515715",
    },
    "telegram": {"bot_token": "123456:TEST-telegram-token", "chat_id": "@finagency_news"},
    "mastodon": {"access_token": "mastodon-test-token"},
    "bluesky": {"identifier": "finagency.test", "app_password": "abcd-efgh-ijkl-mnop"},
    "discord": {"webhook_id": "1100000000000000001", "webhook_token": "test-discord-webhook-token"},
    "slack": {"bot_token": "xoxb-test-finagency", "channel": "C0FINANCE"},
    "webhook": {"url": "http://127.0.0.1/webhook/hook", "secret": "whsec-test-finagency"},
}


def base_url_for(root: str, platform: str) -> str:
    """Where a client finds the fake of ``platform`` when the fakes are served at ``root``."""
    url = f"{root.rstrip('/')}/{platform}"
    return f"{url}/hook" if platform == "webhook" else url


def create_app() -> Starlette:
    async def index(request: Request) -> JSONResponse:
        root = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                name: {"base_url": base_url_for(root, name), "credentials": TEST_CREDENTIALS[name]}
                for name in FAKES
            }
        )

    routes = [
        Route("/", index),
        *(Mount(f"/{name}", app=factory()) for name, factory in FAKES.items()),
    ]
    return Starlette(routes=routes)


def audience_update(
    platform: str,
    external_id: str,
    *,
    likes: int,
    reposts: int,
    replies: int,
    impressions: int,
    clicks: int,
) -> tuple[str, dict[str, object]] | None:
    """The fake's own endpoint and body that set a post's engagement (the demo's 'audience');
    None for platforms whose APIs report no engagement to read back."""
    bodies: dict[str, tuple[str, dict[str, object]]] = {
        "x": (
            "/__fake__/engage",
            {
                "id": external_id,
                "like_count": likes,
                "retweet_count": reposts,
                "reply_count": replies,
                "impression_count": impressions,
            },
        ),
        "linkedin": (
            "/__fake__/engage",
            {
                "urn": external_id,
                "likes": likes,
                "shares": reposts,
                "comments": replies,
                "impressions": impressions,
                "clicks": clicks,
            },
        ),
        "mastodon": (
            "/__fake__/engage",
            {"id": external_id, "favourites": likes, "reblogs": reposts, "replies": replies},
        ),
        "bluesky": (
            "/__fake__/engage",
            {"uri": external_id, "likes": likes, "reposts": reposts, "replies": replies},
        ),
    }
    return bodies.get(platform)
