"""The list endpoints: one envelope, working pages and filters, rows of visible brands only."""

from __future__ import annotations

import httpx
import pytest
from web_support import SEED_POSTS, Login, Seed

PAGED = (
    "/api/v1/posts",
    "/api/v1/jobs",
    "/api/v1/accounts",
    "/api/v1/content",
    "/api/v1/findings",
    "/api/v1/approvals",
    "/api/v1/dead-letters",
    "/api/v1/engagement",
    "/api/v1/users",
    "/api/v1/tokens",
    "/api/v1/webhooks",
    "/api/v1/audit/events",
)


async def test_every_list_has_the_same_envelope(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "admin")

    for path in PAGED:
        response = await client.get(path, params={"limit": 1})
        assert response.status_code == 200, path
        body = response.json()
        assert set(body) == {"items", "total", "limit", "offset"}, path
        assert body["limit"] == 1 and len(body["items"]) <= 1, path


async def test_pages_walk_the_whole_list_without_overlap(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "admin")

    seen: list[int] = []
    offset = 0
    while True:
        page = (await client.get("/api/v1/content", params={"limit": 5, "offset": offset})).json()
        seen += [item["id"] for item in page["items"]]
        offset += 5
        if offset >= page["total"]:
            break

    assert len(seen) == len(set(seen)) == len(SEED_POSTS)


async def test_lists_hold_only_the_callers_brands(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "other")  # editor of brand B only

    for path in ("/api/v1/content", "/api/v1/accounts", "/api/v1/posts"):
        items = (await client.get(path)).json()["items"]
        assert items, path
        assert {item["brand_id"] for item in items} == {seed.brand_ids["b"]}, path
    assert (await client.get("/api/v1/findings")).json()["total"] == 0  # brand A's is not theirs
    dead = (await client.get("/api/v1/dead-letters")).json()
    assert dead["total"] == 0  # brand A's dead letter and the system job are not theirs
    hidden = await client.get("/api/v1/findings", params={"brand_id": seed.brand_ids["a"]})
    assert hidden.status_code == 404


async def test_filters_narrow_the_lists(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "admin")

    blocking = (await client.get("/api/v1/findings", params={"severity": "block"})).json()
    info = (await client.get("/api/v1/findings", params={"severity": "info"})).json()
    approvers = (await client.get("/api/v1/users", params={"role": "approver"})).json()
    by_email = (await client.get("/api/v1/users", params={"q": "CLIENT@"})).json()
    system_dead = (await client.get("/api/v1/dead-letters", params={"queue": "ingest"})).json()

    assert [f["reason_code"] for f in blocking["items"]] == ["promissory"]
    assert info["total"] == 0
    assert [u["email"] for u in approvers["items"]] == ["approver@example.com"]
    assert approvers["items"][0]["roles"] == [{"brand_id": seed.brand_ids["a"], "role": "approver"}]
    assert [u["email"] for u in by_email["items"]] == ["client@example.com"]
    assert [j["id"] for j in system_dead["items"]] == [seed.job_ids["dead_system"]]


@pytest.mark.parametrize("user", ["editor", "approver", "client", "operator"])
async def test_users_list_is_for_admins(
    client: httpx.AsyncClient, seed: Seed, login: Login, user: str
) -> None:
    await login(client, user)

    response = await client.get("/api/v1/users")

    assert response.status_code == 403


async def test_brand_detail_and_account_never_leak_secrets(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "editor")

    brand = (await client.get(f"/api/v1/brands/{seed.brand_ids['a']}")).json()
    [account] = (await client.get("/api/v1/accounts")).json()["items"]

    assert brand["slug"] == "acme"
    assert "credentials_encrypted" not in account
    assert account["handle"] == "acme-desk"


async def test_audit_search_finds_a_decision_by_action_and_object(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "approver")
    post_id = seed.post_id("A clean draft about the ECB rate")
    approved = await client.post(
        f"/api/v1/posts/{post_id}/approve", json={}, headers={"X-CSRF-Token": csrf}
    )
    assert approved.status_code == 200

    found = (
        await client.get(
            "/api/v1/audit/events", params={"action": "post.approved", "object_id": str(post_id)}
        )
    ).json()
    other_action = (
        await client.get("/api/v1/audit/events", params={"action": "post.rejected"})
    ).json()

    assert [(e["actor"], e["object_type"]) for e in found["items"]] == [
        (f"user:{seed.user_ids['approver']}", "post")
    ]
    assert other_action["total"] == 0
