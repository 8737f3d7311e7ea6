"""Role × endpoint matrix: every /api/v1 route, every kind of caller, the expected answer.

The route list comes from the app's OpenAPI document, so a new route fails this test until
it is given a row here. "ok" means the call got past authentication and authorisation (2xx,
or 409 when the object's state forbids the action); numbers are the exact status expected.
Cookie-authenticated state-changing calls must also carry the CSRF token (checked below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from api_support import ALL_SCOPES, bearer, make_token
from fastapi import FastAPI
from sqlalchemy import select
from web_support import Login, Seed

from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.models import Account, Post
from finagency.webhooks.service import create_endpoint

SESSION_USERS = ("admin", "editor", "approver", "client", "operator", "other")
ACTORS = (*SESSION_USERS, "anonymous", "token_all", "token_read")
UNKNOWN = 999_999
Expect = dict[str, int | str]


def view(other: int | str = "ok") -> Expect:
    """Anyone signed in may read; brand B's editor gets 404 for brand A's objects."""
    return dict.fromkeys(ACTORS, "ok") | {"anonymous": 401, "other": other}


def allowed(*who: str, other: int | str = 403, token_read: int | str = 403) -> Expect:
    expect: Expect = {actor: ("ok" if actor in who else 403) for actor in SESSION_USERS}
    return expect | {
        "admin": "ok",
        "other": other,
        "anonymous": 401,
        "token_all": "ok",
        "token_read": token_read,
    }


def session_only(status: int | str = "ok") -> Expect:
    """Token management: any signed-in person, never a token."""
    expect: Expect = dict.fromkeys(SESSION_USERS, status)
    return expect | {"anonymous": 401, "token_all": 403, "token_read": 403}


def everyone_signed_in(status: int) -> Expect:
    return dict.fromkeys(ACTORS, status) | {"anonymous": 401}


@dataclass
class Call:
    url: str
    expect: Expect
    json: Any = None
    files: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ids:
    post: int
    item: int
    account: int
    job: int
    webhook: int
    brand_a: int
    editor: int


def csv_file() -> dict[str, Any]:
    return {"file": ("posts.csv", b"platform,text\nsandbox,Imported by the matrix test\n")}


def matrix(ids: Ids) -> dict[tuple[str, str], Callable[[], Call]]:
    post = f"/api/v1/posts/{ids.post}"
    hook = f"/api/v1/webhooks/{ids.webhook}"
    reject = {"reason": "not this week"}
    a = ids.brand_a
    return {
        ("GET", "/api/v1/stats"): lambda: Call("/api/v1/stats", view()),
        ("GET", "/api/v1/stats/definitions"): lambda: Call("/api/v1/stats/definitions", view()),
        ("GET", "/api/v1/engagement/totals"): lambda: Call("/api/v1/engagement/totals", view()),
        ("GET", "/api/v1/engagement"): lambda: Call("/api/v1/engagement", view()),
        ("GET", "/api/v1/posts"): lambda: Call("/api/v1/posts", view()),
        ("GET", "/api/v1/posts/{post_id}"): lambda: Call(post, view(other=404)),
        ("POST", "/api/v1/posts/{post_id}/resolve"): lambda: Call(
            f"{post}/resolve", allowed("editor", other=404), json={"went_out": False}
        ),
        ("POST", "/api/v1/posts/{post_id}/approve"): lambda: Call(
            f"{post}/approve", allowed("approver"), json={}
        ),
        ("POST", "/api/v1/posts/{post_id}/reject"): lambda: Call(
            f"{post}/reject", allowed("approver"), json=reject
        ),
        ("GET", "/api/v1/review/client"): lambda: Call("/api/v1/review/client", view()),
        # Client sign-off needs the client (or admin) role and, for a token, client:signoff.
        ("POST", "/api/v1/posts/{post_id}/client-approve"): lambda: Call(
            f"{post}/client-approve", allowed("client", other=404), json={}
        ),
        ("POST", "/api/v1/posts/{post_id}/client-reject"): lambda: Call(
            f"{post}/client-reject", allowed("client", other=404), json=reject
        ),
        ("GET", "/api/v1/jobs"): lambda: Call("/api/v1/jobs", view()),
        ("POST", "/api/v1/jobs/bulk"): lambda: Call(
            "/api/v1/jobs/bulk", allowed("operator"), json={"action": "retry", "ids": [ids.job]}
        ),
        ("POST", "/api/v1/jobs/{job_id}/{action}"): lambda: Call(
            f"/api/v1/jobs/{ids.job}/retry", allowed("operator")
        ),
        ("PUT", "/api/v1/jobs/{job_id}/args"): lambda: Call(
            f"/api/v1/jobs/{ids.job}/args", allowed("operator"), json={"args": {}}
        ),
        ("GET", "/api/v1/queues"): lambda: Call("/api/v1/queues", view()),
        ("POST", "/api/v1/queues/{name}/{action}"): lambda: Call(
            "/api/v1/queues/publish/resume", allowed()
        ),
        ("POST", "/api/v1/accounts/{account_id}/{action}"): lambda: Call(
            f"/api/v1/accounts/{ids.account}/resume", allowed("operator")
        ),
        ("GET", "/api/v1/breakers"): lambda: Call("/api/v1/breakers", view()),
        ("GET", "/api/v1/news"): lambda: Call("/api/v1/news", view()),
        ("GET", "/api/v1/quotes"): lambda: Call("/api/v1/quotes", view()),
        ("GET", "/api/v1/sources"): lambda: Call("/api/v1/sources", view()),
        ("GET", "/api/v1/audit"): lambda: Call("/api/v1/audit", view()),
        ("GET", "/api/v1/audit/verify"): lambda: Call("/api/v1/audit/verify", view()),
        ("GET", "/api/v1/audit/events"): lambda: Call("/api/v1/audit/events", view()),
        ("GET", "/api/v1/audit/holds"): lambda: Call("/api/v1/audit/holds", view()),
        ("POST", "/api/v1/audit/holds"): lambda: Call(
            "/api/v1/audit/holds", allowed(other=404), json={"brand_id": a, "reason": "audit"}
        ),
        ("POST", "/api/v1/audit/holds/{hold_id}/release"): lambda: Call(
            f"/api/v1/audit/holds/{UNKNOWN}/release", everyone_signed_in(404), json={}
        ),
        ("GET", "/api/v1/brands"): lambda: Call("/api/v1/brands", view()),
        ("GET", "/api/v1/brands/{brand_id}"): lambda: Call(f"/api/v1/brands/{a}", view(404)),
        ("GET", "/api/v1/users"): lambda: Call("/api/v1/users", allowed()),
        ("GET", "/api/v1/users/{user_id}"): lambda: Call(f"/api/v1/users/{ids.editor}", allowed()),
        ("GET", "/api/v1/tokens"): lambda: Call("/api/v1/tokens", session_only()),
        ("POST", "/api/v1/tokens"): lambda: Call(
            "/api/v1/tokens", session_only(), json={"name": "matrix", "scopes": ["read"]}
        ),
        ("DELETE", "/api/v1/tokens/{token_id}"): lambda: Call(
            f"/api/v1/tokens/{UNKNOWN}", session_only(404)
        ),
        ("GET", "/api/v1/accounts"): lambda: Call("/api/v1/accounts", view()),
        ("GET", "/api/v1/accounts/{account_id}"): lambda: Call(
            f"/api/v1/accounts/{ids.account}", view(404)
        ),
        ("GET", "/api/v1/content"): lambda: Call("/api/v1/content", view()),
        ("GET", "/api/v1/content/{item_id}"): lambda: Call(
            f"/api/v1/content/{ids.item}", view(404)
        ),
        ("GET", "/api/v1/posts.csv"): lambda: Call("/api/v1/posts.csv", view()),
        ("POST", "/api/v1/posts/import"): lambda: Call(
            "/api/v1/posts/import",
            allowed("editor", other=404),
            files=csv_file(),
            params={"brand_id": a},
        ),
        ("POST", "/api/v1/content/editorial"): lambda: Call(
            "/api/v1/content/editorial",
            allowed("editor", other=404),
            json={"brand_id": a, "text": "Written by the matrix test"},
        ),
        ("GET", "/api/v1/reports"): lambda: Call("/api/v1/reports", view()),
        ("GET", "/api/v1/reports/generate"): lambda: Call(
            "/api/v1/reports/generate", view(other=404), params={"brand": "acme"}
        ),
        ("GET", "/api/v1/reports/{report_id}"): lambda: Call(
            f"/api/v1/reports/{UNKNOWN}", everyone_signed_in(404)
        ),
        ("GET", "/api/v1/findings"): lambda: Call("/api/v1/findings", view()),
        ("GET", "/api/v1/approvals"): lambda: Call("/api/v1/approvals", view()),
        ("GET", "/api/v1/dead-letters"): lambda: Call("/api/v1/dead-letters", view()),
        ("GET", "/api/v1/dead-letters/{job_id}"): lambda: Call(
            f"/api/v1/dead-letters/{ids.job}", view(404)
        ),
        ("GET", "/api/v1/webhooks/events"): lambda: Call("/api/v1/webhooks/events", allowed()),
        ("GET", "/api/v1/webhooks"): lambda: Call("/api/v1/webhooks", allowed()),
        ("POST", "/api/v1/webhooks"): lambda: Call(
            "/api/v1/webhooks",
            allowed(),
            json={"brand_id": a, "url": "https://hooks.example/in", "events": ["*"]},
        ),
        ("GET", "/api/v1/webhooks/{endpoint_id}"): lambda: Call(hook, allowed()),
        ("PATCH", "/api/v1/webhooks/{endpoint_id}"): lambda: Call(
            hook, allowed(), json={"description": "matrix"}
        ),
        ("DELETE", "/api/v1/webhooks/{endpoint_id}"): lambda: Call(
            f"/api/v1/webhooks/{UNKNOWN}",
            allowed() | {"admin": 404, "token_all": 404},
        ),
        ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries"): lambda: Call(
            f"{hook}/deliveries", allowed()
        ),
    }


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
    }


async def seed_ids(services: Services, seed: Seed) -> Ids:
    async with transaction(services.sessionmaker) as session:
        brand_a = seed.brand_ids["a"]
        post_id = seed.post_id("A clean draft about the ECB rate")
        post = await session.get(Post, post_id)
        assert post is not None
        account = await session.scalar(select(Account.id).where(Account.brand_id == brand_a))
        assert services.secret_box is not None and account is not None
        endpoint, _ = await create_endpoint(
            session,
            services.secret_box,
            brand_id=brand_a,
            url="https://hooks.example/a",
            events=["*"],
        )
        return Ids(
            post=post_id,
            item=post.content_item_id,
            account=account,
            job=seed.job_ids["dead_a"],
            webhook=endpoint.id,
            brand_a=brand_a,
            editor=seed.user_ids["editor"],
        )


async def test_every_api_route_has_a_row_in_the_matrix(app: FastAPI) -> None:
    ids = Ids(post=1, item=1, account=1, job=1, webhook=1, brand_a=1, editor=1)

    missing = api_routes(app) - set(matrix(ids))

    assert missing == set(), "add these routes to the matrix with who may call them"


def outcome(status: int) -> int | str:
    return "ok" if 200 <= status < 300 or status == 409 else status


async def test_every_route_answers_every_caller_as_the_matrix_says(
    app: FastAPI, services: Services, seed: Seed, login: Login
) -> None:
    ids = await seed_ids(services, seed)
    table = matrix(ids)
    assert set(table) <= api_routes(app), "the matrix lists routes the app no longer has"
    transport = httpx.ASGITransport(app=app)
    clients: dict[str, httpx.AsyncClient] = {}
    headers: dict[str, dict[str, str]] = {}
    for actor in ACTORS:
        clients[actor] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        headers[actor] = {}
    try:
        for user in SESSION_USERS:
            headers[user] = {"X-CSRF-Token": await login(clients[user], user)}
        headers["token_all"] = bearer(await make_token(services, seed, "admin", ALL_SCOPES))
        headers["token_read"] = bearer(await make_token(services, seed, "admin", ["read"]))
        mismatches = []
        for (method, path), build in sorted(table.items()):
            for actor in ACTORS:
                call = build()
                response = await clients[actor].request(
                    method,
                    call.url,
                    json=call.json,
                    files=call.files,
                    params=call.params,
                    headers=headers[actor],
                )
                assert response.status_code < 500, (method, path, actor, response.text)
                got, want = outcome(response.status_code), call.expect[actor]
                if actor == "anonymous" and method != "GET":
                    want = 403  # no session, so no CSRF token: refused before authentication
                if got != want:
                    mismatches.append((method, path, actor, want, got, response.text[:200]))
        assert mismatches == [], "\n".join(map(str, mismatches))
    finally:
        for client in clients.values():
            await client.aclose()


async def test_cookie_calls_that_change_state_need_the_csrf_token(
    app: FastAPI, services: Services, seed: Seed, login: Login
) -> None:
    ids = await seed_ids(services, seed)
    table = matrix(ids)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = await login(client, "admin")
        refused = []
        for (method, path), build in sorted(table.items()):
            if method == "GET":
                continue
            call = build()
            missing = await client.request(
                method, call.url, json=call.json, files=call.files, params=call.params
            )
            cross_site = await client.request(
                method,
                call.url,
                json=call.json,
                files=call.files,
                params=call.params,
                headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
            )
            for response in (missing, cross_site):
                code = response.json().get("error", {}).get("code")
                refused.append((method, path, response.status_code, code))
    assert refused
    assert all(status == 403 and code == "csrf_failed" for _, _, status, code in refused), [
        item for item in refused if item[2:] != (403, "csrf_failed")
    ]
