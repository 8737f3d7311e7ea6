"""Outbound webhooks: signed deliveries through the queue, retried, dead-lettered, logged."""

from __future__ import annotations

import json

import httpx
import pytest
from api_support import bearer, make_token
from receiver import running_receiver
from web_support import Login, Seed

from finagency.core.db import transaction
from finagency.core.http import build_guarded_client
from finagency.core.services import Services
from finagency.models import Job, JobState
from finagency.queue import ExponentialBackoff, Notifier, TaskRegistry, Worker, WorkerConfig
from finagency.queue.enqueue import enqueue
from finagency.webhooks import deliver_event
from finagency.webhooks.dispatch import DISPATCH_TASK, DISPATCH_TASK_NAME
from finagency.webhooks.signing import SignatureError, verify
from finagency.webhooks.tasks import deliver_task

NO_WAIT = ExponentialBackoff(base_seconds=0.0, jitter=False)


async def drain(services: Services) -> None:
    registry = TaskRegistry([deliver_task(retry=NO_WAIT), DISPATCH_TASK])
    worker = Worker(
        services.sessionmaker, registry, WorkerConfig(), services=services, notifier=Notifier()
    )
    await worker.run_until_idle()


async def add_endpoint(
    client: httpx.AsyncClient, csrf: str, seed: Seed, url: str, events: list[str]
) -> dict[str, object]:
    response = await client.post(
        "/api/v1/webhooks",
        json={"brand_id": seed.brand_ids["a"], "url": url, "events": events},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def send(services: Services, seed: Seed, event: str, max_attempts: int = 3) -> list[int]:
    async with transaction(services.sessionmaker) as session:
        return await deliver_event(
            session, seed.brand_ids["a"], event, {"report_id": 7}, max_attempts=max_attempts
        )


async def test_delivery_is_signed_and_logged(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    async with running_receiver() as receiver:
        endpoint = await add_endpoint(client, csrf, seed, receiver.url, ["report.ready"])
        assert await send(services, seed, "report.ready")
        await drain(services)

    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    verify(str(endpoint["secret"]), sent.headers, sent.body)  # raises if the signature is wrong
    body = json.loads(sent.body)
    assert body["type"] == "report.ready"
    assert body["data"] == {"report_id": 7}
    assert body["id"] == sent.headers["webhook-id"]
    with pytest.raises(SignatureError):
        verify(str(endpoint["secret"]), sent.headers, sent.body + b" ")
    log = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")).json()
    [delivery] = log["items"]
    assert delivery["status"] == "delivered"
    assert (delivery["attempts"], delivery["response_code"]) == (1, 200)
    assert delivery["duration_ms"] is not None


async def test_unsubscribed_events_are_not_sent(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    async with running_receiver() as receiver:
        await add_endpoint(client, csrf, seed, receiver.url, ["post.published"])
        assert await send(services, seed, "report.ready") == []
        await drain(services)

    assert receiver.requests == []


async def test_a_500_is_retried_until_the_receiver_accepts(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    async with running_receiver([500, 500, 200]) as receiver:
        endpoint = await add_endpoint(client, csrf, seed, receiver.url, ["*"])
        await send(services, seed, "report.ready", max_attempts=5)
        await drain(services)

    assert len(receiver.requests) == 3
    assert len({sent.headers["webhook-id"] for sent in receiver.requests}) == 1
    for sent in receiver.requests:
        verify(str(endpoint["secret"]), sent.headers, sent.body)
    [delivery] = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")).json()["items"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)


async def test_exhausted_delivery_is_dead_lettered(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    async with running_receiver([500]) as receiver:
        endpoint = await add_endpoint(client, csrf, seed, receiver.url, ["report.ready"])
        await send(services, seed, "report.ready", max_attempts=3)
        await drain(services)

    assert len(receiver.requests) == 3
    [delivery] = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")).json()["items"]
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == (
        "dead",
        3,
        500,
    )
    assert "receiver broke" in delivery["last_error"]
    dead = (await client.get("/api/v1/dead-letters", params={"task": "webhooks.deliver"})).json()
    assert dead["total"] == 1
    assert dead["items"][0]["state"] == JobState.DISCARDED.value


async def test_private_address_is_refused_unless_allowed(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    allowing = services.http
    services.http = build_guarded_client(user_agent="finagency-test")  # the default: no private
    try:
        async with running_receiver() as receiver:
            endpoint = await add_endpoint(client, csrf, seed, receiver.url, ["report.ready"])
            await send(services, seed, "report.ready", max_attempts=3)
            await drain(services)
    finally:
        await services.http.aclose()
        services.http = allowing

    assert receiver.requests == []
    [delivery] = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")).json()["items"]
    assert delivery["status"] == "dead"
    assert delivery["last_error"].startswith("refused")


async def run_dispatch(services: Services) -> None:
    async with transaction(services.sessionmaker) as session:
        await enqueue(session, DISPATCH_TASK_NAME)
    await drain(services)


async def test_approving_a_post_sends_content_approved(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    async with running_receiver() as receiver:
        endpoint = await add_endpoint(
            client, csrf, seed, receiver.url, ["content.approved", "job.dead_lettered"]
        )
        await run_dispatch(services)  # the first run starts the watermarks at "now"
        approver = await make_token(services, seed, "approver", ["review"])
        post_id = seed.post_id("A clean draft about the ECB rate")
        approved = await client.post(
            f"/api/v1/posts/{post_id}/approve", json={}, headers=bearer(approver)
        )
        assert approved.status_code == 200, approved.text
        await run_dispatch(services)
        await run_dispatch(services)  # nothing is sent twice

    events = [json.loads(sent.body) for sent in receiver.requests]
    assert [(event["type"], event["data"]["object_id"]) for event in events] == [
        ("content.approved", str(post_id))
    ]
    verify(str(endpoint["secret"]), receiver.requests[0].headers, receiver.requests[0].body)


async def test_dead_lettered_job_of_the_brand_is_announced(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "admin")
    async with running_receiver() as receiver:
        await add_endpoint(client, csrf, seed, receiver.url, ["job.dead_lettered"])
        await run_dispatch(services)
        async with transaction(services.sessionmaker) as session:
            job = await session.get(Job, seed.job_ids["dead_a"])
            assert job is not None
            job.finalized_at = job.finalized_at.replace(year=job.finalized_at.year + 1)
        await run_dispatch(services)

    [event] = [json.loads(sent.body) for sent in receiver.requests]
    assert event["type"] == "job.dead_lettered"
    assert event["data"]["job_id"] == seed.job_ids["dead_a"]


async def test_webhooks_are_managed_per_brand(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    editor = await make_token(services, seed, "editor", ["settings:admin"])
    admin_csrf = await login(client, "admin")
    created = await add_endpoint(client, admin_csrf, seed, "https://hooks.example/x", ["*"])

    refused = await client.post(
        "/api/v1/webhooks",
        json={"brand_id": seed.brand_ids["a"], "url": "https://a.example", "events": ["*"]},
        headers=bearer(editor),
    )
    bad_url = await client.post(
        "/api/v1/webhooks",
        json={"brand_id": seed.brand_ids["a"], "url": "ftp://x.example", "events": ["*"]},
        headers={"X-CSRF-Token": admin_csrf},
    )
    bad_event = await client.post(
        "/api/v1/webhooks",
        json={"brand_id": seed.brand_ids["a"], "url": "https://x.example", "events": ["boom"]},
        headers={"X-CSRF-Token": admin_csrf},
    )
    listed = (await client.get("/api/v1/webhooks")).json()

    assert refused.status_code == 403  # an editor holds no settings.manage, whatever the scope
    assert bad_url.status_code == 422
    assert bad_event.json()["error"]["details"]["unknown"] == ["boom"]
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    assert str(created["secret"]).startswith("whsec_")
