"""The JSON API under /api/v1: stats, posts, decisions and jobs, scoped by brand and role."""

from __future__ import annotations

from datetime import timedelta

import httpx
from web_support import SCRIPT_TEXT, SEED_POSTS, Login, Seed

from finagency.models import PostStatus

PIPELINE = {"approved", "scheduled", "publishing", "published", "failed", "unconfirmed", "expired"}
PENDING = {"approved", "scheduled", "publishing"}


def expected_stats(brands: set[str]) -> dict[str, object]:
    """The seed's numbers worked out from the definitions, without the code under test."""
    posts = [spec for spec in SEED_POSTS if spec.brand in brands]
    total = sum(spec.status.value in PIPELINE for spec in posts)
    pending = [spec for spec in posts if spec.status.value in PENDING]
    posted = sum(spec.status is PostStatus.PUBLISHED for spec in posts)
    late = -timedelta(hours=2)
    stuck = sum(
        (spec.scheduled is not None and spec.scheduled < late)
        or (spec.scheduled is None and spec.queued is not None and spec.queued < late)
        for spec in pending
    )
    return {
        "total": total,
        "pending": len(pending),
        "posted": posted,
        "backlog_pct": round(len(pending) * 100 / total, 1),
        "stuck": stuck,
        "processing_rate_pct": round(posted * 100 / total, 1),
        "in_review": sum(spec.status is PostStatus.IN_REVIEW for spec in posts),
        "throughput_per_hour": sum(
            spec.published is not None and spec.published > -timedelta(hours=1) for spec in posts
        ),
    }


async def test_stats_count_the_seeded_posts_of_the_callers_brands(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")

    stats = (await client.get("/api/v1/stats")).json()

    want = expected_stats({"a"})
    assert {key: stats[key] for key in want} == want
    assert want["total"] == 6 and want["stuck"] == 2  # the seed is what the test thinks it is
    assert stats["dead_letters"] == 1  # brand A's, not the system job's


async def test_admin_stats_cover_every_brand_and_can_narrow_to_one(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "admin")

    everything = (await client.get("/api/v1/stats")).json()
    only_b = (await client.get("/api/v1/stats", params={"brand_id": seed.brand_ids["b"]})).json()

    assert everything["total"] == expected_stats({"a", "b"})["total"]
    assert everything["dead_letters"] == 2
    assert only_b["total"] == expected_stats({"b"})["total"]


async def test_stats_of_a_brand_you_may_not_see_are_not_found(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")

    response = await client.get("/api/v1/stats", params={"brand_id": seed.brand_ids["b"]})

    assert response.status_code == 404


async def test_api_without_a_session_is_401_json(client: httpx.AsyncClient, seed: Seed) -> None:
    response = await client.get("/api/v1/stats")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


async def test_approving_needs_the_csrf_token(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "approver")
    post_id = seed.post_id("A clean draft about the ECB rate")

    refused = await client.post(f"/api/v1/posts/{post_id}/approve", json={})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert (await client.get(f"/api/v1/posts/{post_id}")).json()["status"] == "in_review"

    approved = await client.post(
        f"/api/v1/posts/{post_id}/approve",
        json={"note": "fine"},
        headers={"X-CSRF-Token": token},
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "scheduled"
    assert body["approval"]["decision"] == "approved"
    detail = (await client.get(f"/api/v1/posts/{post_id}")).json()
    assert detail["status"] == "scheduled"
    assert [item["note"] for item in detail["approvals"]] == ["fine"]


async def test_author_cannot_approve_their_own_post(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "approver")
    post_id = seed.post_id("The approver's own draft")

    response = await client.post(
        f"/api/v1/posts/{post_id}/approve", json={}, headers={"X-CSRF-Token": token}
    )

    assert response.status_code == 403
    assert "maker-checker" in response.json()["error"]["message"]


async def test_client_viewer_may_not_approve(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "client")
    post_id = seed.post_id("A clean draft about the ECB rate")

    response = await client.post(
        f"/api/v1/posts/{post_id}/approve", json={}, headers={"X-CSRF-Token": token}
    )

    assert response.status_code == 403
    assert (await client.get(f"/api/v1/posts/{post_id}")).json()["status"] == "in_review"


async def test_editor_cannot_see_another_brands_posts(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "other")  # editor of brand B only

    page = (await client.get("/api/v1/posts", params={"limit": 100})).json()
    a_post = seed.post_id(SCRIPT_TEXT)

    assert {item["brand_id"] for item in page["items"]} == {seed.brand_ids["b"]}
    assert page["total"] == sum(spec.brand == "b" for spec in SEED_POSTS)
    assert (await client.get(f"/api/v1/posts/{a_post}")).status_code == 404
    listed_a = await client.get("/api/v1/posts", params={"brand_id": seed.brand_ids["a"]})
    assert listed_a.status_code == 404


async def test_posts_filter_and_paginate(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "editor")

    first = (await client.get("/api/v1/posts", params={"status": "in_review", "limit": 2})).json()
    second = (
        await client.get("/api/v1/posts", params={"status": "in_review", "limit": 2, "offset": 2})
    ).json()

    assert first["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {item["status"] for item in first["items"] + second["items"]} == {"in_review"}


async def test_post_detail_carries_its_findings(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "editor")

    detail = (await client.get(f"/api/v1/posts/{seed.post_id(SCRIPT_TEXT)}")).json()

    assert [item["reason_code"] for item in detail["findings"]] == ["promissory"]
    assert detail["approvals"] == [] and detail["publish_attempts"] == []


async def test_reject_needs_a_reason_and_records_it(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "approver")
    post_id = seed.post_id(SCRIPT_TEXT)
    headers = {"X-CSRF-Token": token}

    empty = await client.post(f"/api/v1/posts/{post_id}/reject", json={}, headers=headers)
    done = await client.post(
        f"/api/v1/posts/{post_id}/reject", json={"reason": "No promises."}, headers=headers
    )

    assert empty.status_code == 422
    assert done.status_code == 200
    assert done.json()["status"] == "rejected"
    assert done.json()["approval"]["note"] == "No promises."


async def test_jobs_are_scoped_and_dead_letters_can_be_retried(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "admin")
    headers = {"X-CSRF-Token": token}

    listed = (await client.get("/api/v1/jobs", params={"state": "discarded"})).json()
    retried = await client.post(f"/api/v1/jobs/{seed.job_ids['dead_a']}/retry", headers=headers)
    bulk = await client.post(
        "/api/v1/jobs/bulk",
        json={"action": "cancel", "ids": [seed.job_ids["dead_a"], seed.job_ids["dead_system"]]},
        headers=headers,
    )

    assert listed["total"] == 2
    assert retried.json() == {"action": "retry", "requested": 1, "affected": 1}
    # The retried job is waiting again, so it can be cancelled; the dead one cannot.
    assert bulk.json() == {"action": "cancel", "requested": 2, "affected": 1}


async def test_operator_rights_are_per_brand(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "editor")  # no queue.operate anywhere

    jobs = (await client.get("/api/v1/jobs")).json()
    refused = await client.post(
        f"/api/v1/jobs/{seed.job_ids['dead_a']}/retry", headers={"X-CSRF-Token": token}
    )

    assert [item["id"] for item in jobs["items"]] == [seed.job_ids["dead_a"]]
    assert refused.status_code == 403


async def test_queues_pause_and_resume(client: httpx.AsyncClient, seed: Seed, login: Login) -> None:
    token = await login(client, "admin")
    headers = {"X-CSRF-Token": token}

    paused = await client.post("/api/v1/queues/publish/pause", headers=headers)
    queues = {item["queue"]: item for item in (await client.get("/api/v1/queues")).json()}
    resumed = await client.post("/api/v1/queues/publish/resume", headers=headers)

    assert paused.json()["paused"] is True
    assert queues["publish"]["paused"] is True
    assert queues["publish"]["counts"] == {"discarded": 1}
    assert resumed.json()["paused"] is False


async def test_brands_market_and_audit_answer(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")

    brands = (await client.get("/api/v1/brands")).json()
    verify = (await client.get("/api/v1/audit/verify")).json()

    assert [brand["slug"] for brand in brands] == ["acme"]
    assert verify["ok"] is True
    for path in ("/api/v1/news", "/api/v1/quotes", "/api/v1/sources", "/api/v1/audit"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.json() == []


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()

    assert spec["openapi"].startswith("3.")
    assert "/api/v1/posts/{post_id}/approve" in spec["paths"]
    assert "StatsRead" in spec["components"]["schemas"]
    assert not any(path in spec["paths"] for path in ("/", "/review", "/login"))
