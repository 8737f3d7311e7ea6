"""Which client a platform name builds, and the credentials each needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from finagency.core.errors import PermanentExternalError
from finagency.integrations.platforms import (
    bluesky,
    discord,
    linkedin,
    mastodon,
    slack,
    telegram,
    webhook,
    x,
)
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, PlatformClient

Builder = Callable[..., PlatformClient]


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    name: str
    build: Builder
    required: tuple[str, ...]
    note: str = ""


PLATFORMS: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec("x", x.build, x.REQUIRED_CREDENTIALS, "refresh_token, client_id to refresh"),
        PlatformSpec("linkedin", linkedin.build, linkedin.REQUIRED_CREDENTIALS),
        PlatformSpec("telegram", telegram.build, telegram.REQUIRED_CREDENTIALS),
        PlatformSpec(
            "mastodon", mastodon.build, mastodon.REQUIRED_CREDENTIALS, "--base-url: the instance"
        ),
        PlatformSpec("bluesky", bluesky.build, bluesky.REQUIRED_CREDENTIALS, "--base-url: the PDS"),
        PlatformSpec("discord", discord.build, discord.REQUIRED_CREDENTIALS),
        PlatformSpec("slack", slack.build, slack.REQUIRED_CREDENTIALS, "or webhook_url alone"),
        PlatformSpec("webhook", webhook.build, webhook.REQUIRED_CREDENTIALS),
    )
}


def build_client(
    platform: str,
    credentials: Credentials,
    http: httpx.AsyncClient,
    *,
    base_url: str | None = None,
    on_credentials: CredentialsSaver | None = None,
) -> PlatformClient:
    spec = PLATFORMS.get(platform)
    if spec is None:
        known = ", ".join(sorted(PLATFORMS))
        raise PermanentExternalError(f"unknown platform {platform!r}; known: {known}")
    return spec.build(credentials, http, base_url=base_url, on_credentials=on_credentials)


def duplicate_content_errors() -> tuple[type[Exception], ...]:
    """Errors that mean 'the platform already has this post': read back, don't fail."""
    return (x.DuplicateContentError, linkedin.DuplicateContentError)
