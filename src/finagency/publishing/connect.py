"""Connecting X and LinkedIn accounts with OAuth 2.0 authorization code + PKCE.

``start_connect`` stores the PKCE verifier under an unguessable ``state`` (server side, for ten
minutes, bound to the person who started) and returns the consent URL; ``finish_connect``
checks the state, trades the code for tokens, asks the platform who they belong to, and stores
the account with its tokens encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.config import PlatformAppSettings, Settings
from finagency.core.errors import BadRequest, ValidationFailed
from finagency.core.services import Services
from finagency.integrations.platforms import linkedin, oauth, x
from finagency.integrations.platforms.registry import build_client
from finagency.models import Account, Brand, Setting
from finagency.publishing.accounts import connect_account

OAuthPlatform = Literal["x", "linkedin"]
STATE_TTL = timedelta(minutes=10)
_PREFIX = "oauth_state:"


@dataclass(frozen=True, slots=True)
class OAuthApp:
    platform: OAuthPlatform
    client_id: str
    client_secret: str | None
    authorize_url: str
    token_url: str
    api_base_url: str | None
    scopes: tuple[str, ...]
    client_auth: oauth.ClientAuth


def oauth_app(settings: Settings, platform: str) -> OAuthApp:
    if platform not in ("x", "linkedin"):
        raise ValidationFailed(f"{platform} accounts are connected with credentials, not OAuth")
    configured: PlatformAppSettings = getattr(settings.platforms, platform)
    if not configured.client_id:
        raise BadRequest(
            f"no {platform} app is configured: set FINAGENCY_PLATFORMS__{platform.upper()}__CLIENT_ID"
            f" (and __CLIENT_SECRET) to the app registered with {platform}"
        )
    secret = configured.client_secret.get_secret_value() if configured.client_secret else None
    if platform == "x":
        api = configured.api_base_url
        return OAuthApp(
            "x",
            configured.client_id,
            secret,
            configured.authorize_url or x.AUTHORIZE_URL,
            f"{(api or 'https://api.x.com').rstrip('/')}/2/oauth2/token",
            api,
            x.SCOPES,
            "basic",
        )
    api = configured.api_base_url
    token_base = api or "https://www.linkedin.com"
    return OAuthApp(
        "linkedin",
        configured.client_id,
        secret,
        configured.authorize_url or linkedin.AUTHORIZE_URL,
        f"{token_base.rstrip('/')}/oauth/v2/accessToken",
        api,
        linkedin.SCOPES,
        "body",
    )


def redirect_uri(settings: Settings, platform: str) -> str:
    return f"{settings.public_url}/accounts/callback/{platform}"


async def start_connect(
    session: AsyncSession,
    settings: Settings,
    *,
    brand_id: int,
    user_id: int,
    platform: str,
    now: datetime,
) -> str:
    app = oauth_app(settings, platform)
    verifier, challenge = oauth.new_pkce()
    state = oauth.new_state()
    # Expired states of anyone are cleared on the way: they are useless and hold verifiers.
    await session.execute(
        delete(Setting).where(
            Setting.key.like(f"{_PREFIX}%"), Setting.value["expires"].as_string() < now.isoformat()
        )
    )
    session.add(
        Setting(
            brand_id=brand_id,
            key=_PREFIX + state,
            value={
                "platform": platform,
                "verifier": verifier,
                "user_id": user_id,
                "expires": (now + STATE_TTL).isoformat(),
            },
        )
    )
    await session.flush()
    return oauth.authorization_url(
        app.authorize_url,
        client_id=app.client_id,
        redirect_uri=redirect_uri(settings, platform),
        scopes=app.scopes,
        state=state,
        code_challenge=challenge,
    )


async def finish_connect(
    session: AsyncSession,
    services: Services,
    *,
    platform: str,
    code: str,
    state: str,
    user_id: int,
    now: datetime,
) -> Account:
    stored = (
        await session.execute(select(Setting).where(Setting.key == _PREFIX + state))
    ).scalar_one_or_none()
    if stored is None or stored.value.get("platform") != platform:
        raise BadRequest("this sign-in link is unknown or was already used; start connecting again")
    await session.delete(stored)  # a state is good for one callback only
    await session.flush()
    if stored.value.get("user_id") != user_id:
        raise BadRequest("this sign-in was started by someone else; start connecting again")
    if datetime.fromisoformat(stored.value["expires"]) < now:
        raise BadRequest("this sign-in took longer than ten minutes; start connecting again")
    app = oauth_app(services.settings, platform)
    tokens = await oauth.exchange_code(
        services.http,
        app.token_url,
        code=code,
        redirect_uri=redirect_uri(services.settings, platform),
        client_id=app.client_id,
        code_verifier=stored.value["verifier"],
        client_secret=app.client_secret,
        client_auth=app.client_auth,
        platform=platform,
    )
    credentials = tokens.merged_into({"client_id": app.client_id})
    if app.client_secret:
        credentials["client_secret"] = app.client_secret
    if platform == "linkedin":
        # Posts go out as the member who consented until an admin points them at a Page.
        identity = await build_client(
            platform,
            {**credentials, "author_urn": "urn:li:person:unknown"},
            services.http,
            base_url=app.api_base_url,
        ).verify()
        credentials["author_urn"] = (
            identity.extra.get("person_urn") or f"urn:li:person:{identity.id}"
        )
    else:
        identity = await build_client(
            platform, credentials, services.http, base_url=app.api_base_url
        ).verify()
        credentials["user_id"] = identity.id
    brand = await session.get(Brand, stored.brand_id)
    if brand is None:
        raise BadRequest("the brand this account was being connected for no longer exists")
    return await connect_account(
        session,
        services.secret_box,
        brand,
        platform=platform,
        handle=identity.handle,
        display_name=identity.display_name,
        credentials=credentials,
        base_url=app.api_base_url,
        actor=f"user:{user_id}",
    )
