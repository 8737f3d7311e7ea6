"""Dead-letter editing, per-account pauses and breakers through the API."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from web_support import HTML, Login, Seed

from finagency.core.services import Services
from finagency.models import Account, Job, QueueControl


async def test_a_dead_letter_is_fixed_and_runs_again(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "admin")
    job_id = seed.job_ids["dead_a"]

    edited = await client.put(
        f"/api/v1/jobs/{job_id}/args",
        json={"args": {"post_id": 42}},
        headers={"X-CSRF-Token": token},
    )

    assert edited.status_code == 200, edited.text
    assert edited.json()["state"] == "available"
    async with services.read_sessionmaker() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert job.args == {"post_id": 42}
    assert job.attempt == 0
    # The old arguments stay in the job's history.
    assert job.errors[-1]["edited_args_from"] == {}
    # Editing a job that is not dead is refused with the reason.
    again = await client.put(
        f"/api/v1/jobs/{job_id}/args", json={"args": {}}, headers={"X-CSRF-Token": token}
    )
    assert again.status_code == 409


async def test_pausing_an_account_is_recorded_and_needs_the_permission(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    async with services.read_sessionmaker() as session:
        account_id = await session.scalar(
            select(Account.id).where(Account.brand_id == seed.brand_ids["a"])
        )
    editor_token = await login(client, "editor")
    refused = await client.post(
        f"/api/v1/accounts/{account_id}/pause", headers={"X-CSRF-Token": editor_token}
    )
    assert refused.status_code == 403

    client.cookies.clear()
    token = await login(client, "admin")
    paused = await client.post(
        f"/api/v1/accounts/{account_id}/pause", headers={"X-CSRF-Token": token}
    )
    assert paused.json() == {"account_id": account_id, "paused": True}
    async with services.read_sessionmaker() as session:
        control = await session.get(QueueControl, f"account:{account_id}")
    assert control is not None
    assert control.paused
    resumed = await client.post(
        f"/api/v1/accounts/{account_id}/resume", headers={"X-CSRF-Token": token}
    )
    assert resumed.json()["paused"] is False


async def test_breakers_are_listed(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    from finagency.core.db import transaction
    from finagency.queue import breaker

    policy = breaker.BreakerPolicy(threshold=1)
    async with transaction(services.sessionmaker) as session:
        await breaker.record_failure(session, "platform:x", policy, "HTTP 503")
    await login(client, "admin")
    listed = (await client.get("/api/v1/breakers")).json()
    assert [(row["key"], row["state"], row["last_error"]) for row in listed] == [
        ("platform:x", "open", "HTTP 503")
    ]


async def test_accounts_page_says_once_which_account_needs_reconnecting(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    from finagency.core.db import transaction

    async with transaction(services.sessionmaker) as session:
        account = (
            await session.execute(select(Account).where(Account.brand_id == seed.brand_ids["a"]))
        ).scalar_one()
        account.status, account.last_error = "auth_expired", "HTTP 401: token revoked"
    await login(client, "admin")

    page = (await client.get("/accounts", headers=HTML)).text

    assert page.count("needs to be reconnected") == 1
    assert "acme-desk" in page
    assert "HTTP 401: token revoked" in page


async def test_a_person_confirms_an_unconfirmed_post_from_the_posts_page(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    from finagency.core.db import transaction
    from finagency.models import Post

    post_id = seed.post_id("Failed at the platform")
    async with transaction(services.sessionmaker) as session:
        post = await session.get(Post, post_id)
        assert post is not None
        post.status = "unconfirmed"
    token = await login(client, "admin")
    listing = (await client.get("/posts?status=unconfirmed", headers=HTML)).text
    assert "It went out" in listing
    assert "Publish again" in listing

    await client.post(
        f"/posts/{post_id}/resolve",
        data={"csrf_token": token, "decision": "went_out"},
        headers=HTML,
    )

    async with services.read_sessionmaker() as session:
        post = await session.get(Post, post_id)
    assert post is not None
    assert post.status == "published"


async def test_an_admin_adds_a_token_account_from_the_dashboard(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    import json

    from finagency.publishing.accounts import read_credentials

    token = await login(client, "admin")
    form = {
        "csrf_token": token,
        "brand_id": str(seed.brand_ids["a"]),
        "platform": "telegram",
        "handle": "acme_news",
        "credentials": json.dumps({"bot_token": "123456:TEST-telegram-token", "chat_id": "@acme"}),
    }
    await client.post("/accounts/add", data=form, headers=HTML)
    missing = {**form, "handle": "broken", "credentials": json.dumps({"bot_token": "x"})}
    await client.post("/accounts/add", data=missing, headers=HTML)
    page = (await client.get("/accounts", headers=HTML)).text

    assert "telegram account acme_news added" in page
    assert "telegram needs these credentials: chat_id." in page
    assert "TEST-telegram-token" not in page  # never shown again
    async with services.read_sessionmaker() as session:
        account = (
            await session.execute(select(Account).where(Account.handle == "acme_news"))
        ).scalar_one()
    assert "TEST-telegram-token" not in (account.credentials_encrypted or "")
    assert read_credentials(services.secret_box, account)["chat_id"] == "@acme"
