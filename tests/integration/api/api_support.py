"""What the API tests share: settings, users beyond the web seed, API tokens."""

from __future__ import annotations

from pydantic import SecretStr
from web_support import Seed

from finagency.auth import service as auth
from finagency.auth.tokens import permissions_for_scopes
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.models import User

CORS_ORIGIN = "https://dashboard.example"
ALL_SCOPES = [
    "read",
    "content:write",
    "review",
    "client:signoff",
    "publish",
    "queue:admin",
    "settings:admin",
]
OPERATOR = "operator@example.com"


def api_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SecretStr("test-secret-key-for-api-tests-0123"),
        security={"cors_origins": [CORS_ORIGIN]},
        http={"allow_private": ["127.0.0.1"]},
    )


def email_of(user: str) -> str:
    return OPERATOR if user == "operator" else f"{user}@example.com"


async def make_token(
    services: Services,
    seed: Seed,
    user: str,
    scopes: list[str],
    *,
    brand: str | None = None,
) -> str:
    """An API token for a seeded user, made through the auth service (as the API does)."""
    async with transaction(services.sessionmaker) as session:
        owner = await session.get(User, seed.user_ids[user])
        assert owner is not None
        _, plaintext = await auth.create_api_token(
            session,
            owner,
            f"{user} {' '.join(scopes)}",
            permissions_for_scopes(scopes),
            brand_id=seed.brand_ids[brand] if brand else None,
        )
    return plaintext


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
