"""Which client publishes for an account: the sandbox, or a real platform with its stored credentials."""

from __future__ import annotations

from finagency.core.services import Services
from finagency.integrations.platforms.base import Credentials, PlatformClient
from finagency.integrations.platforms.registry import build_client
from finagency.integrations.platforms.sandbox import SandboxClient
from finagency.models import Account
from finagency.publishing.accounts import read_credentials, save_refreshed_credentials
from finagency.publishing.sandbox_store import DatabaseSandboxStore


def client_for(account: Account, services: Services) -> PlatformClient:
    kind, _, stands_in_for = account.platform.partition(":")
    if kind == "sandbox":
        return SandboxClient(
            DatabaseSandboxStore(services.sessionmaker, account),
            stands_in_for=stands_in_for or "x",
            handle=account.handle,
            failure_rate=services.settings.sandbox_failure_rate,
        )
    account_id = account.id

    async def save(credentials: Credentials) -> None:
        await save_refreshed_credentials(
            services.sessionmaker, services.secret_box, account_id, credentials
        )

    return build_client(
        account.platform,
        read_credentials(services.secret_box, account),
        # Account base URLs are admin-configured: they go through the guarded client.
        services.http,
        base_url=account.base_url,
        on_credentials=save,
    )
