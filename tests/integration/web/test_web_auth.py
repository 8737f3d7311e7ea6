"""Signing in and out of the dashboard, as a person at a browser would."""

from __future__ import annotations

import re

import httpx
from web_support import HTML, PASSWORD, Login, Seed, csrf_in, email


async def test_anonymous_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=HTML)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


async def test_sign_in_shows_the_overview_with_its_numbers(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    form = await client.get("/login", headers=HTML)
    assert '<label for="password">Password</label>' in form.text
    response = await client.post(
        "/login",
        data={
            "email": email("approver"),
            "password": PASSWORD,
            "csrf_token": csrf_in(form.text),
            "next": "/",
        },
        headers=HTML,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"

    page = await client.get("/", headers=HTML)

    assert page.status_code == 200
    assert "Signed in as approver@example.com." in page.text
    # Brand A's pipeline: 2 published, 2 scheduled, 1 approved, 1 failed (see conftest).
    assert re.search(r'data-metric="total" data-format="int">6<', page.text)
    assert re.search(r'data-metric="backlog_pct" data-format="pct">50\.0%<', page.text)
    assert re.search(r'data-metric="stuck" data-format="int">2<', page.text)
    assert 'title="Posts that entered the publishing pipeline (approved or later)."' in page.text
    assert "Acme Capital" in page.text
    assert "Beta Wealth" not in page.text


async def test_wrong_password_shows_an_error_and_does_not_sign_in(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    form = await client.get("/login", headers=HTML)
    response = await client.post(
        "/login",
        data={
            "email": email("approver"),
            "password": "not the password",
            "csrf_token": csrf_in(form.text),
        },
        headers=HTML,
    )

    assert response.status_code == 401
    assert "email or password is incorrect" in response.text
    assert 'value="approver@example.com"' in response.text
    assert (await client.get("/", headers=HTML)).status_code == 303


async def test_sign_in_form_without_csrf_token_is_refused(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    response = await client.post(
        "/login", data={"email": email("approver"), "password": PASSWORD}, headers=HTML
    )

    assert response.status_code == 403
    assert "Not allowed" in response.text
    # An API client (no text/html in Accept) gets the JSON error shape with its stable code.
    api = await client.post("/login", data={"email": email("approver"), "password": PASSWORD})
    assert api.json()["error"]["code"] == "csrf_failed"


async def test_sign_in_never_redirects_off_site(client: httpx.AsyncClient, seed: Seed) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        form = await client.get("/login", params={"next": target}, headers=HTML)
        assert 'name="next" value="/"' in form.text
        response = await client.post(
            "/login",
            data={
                "email": email("editor"),
                "password": PASSWORD,
                "csrf_token": csrf_in(form.text),
                "next": target,
            },
            headers=HTML,
        )
        assert response.headers["location"] == "/"


async def test_sign_in_returns_to_the_page_asked_for(client: httpx.AsyncClient, seed: Seed) -> None:
    form = await client.get("/login", params={"next": "/review"}, headers=HTML)
    response = await client.post(
        "/login",
        data={
            "email": email("editor"),
            "password": PASSWORD,
            "csrf_token": csrf_in(form.text),
            "next": "/review",
        },
        headers=HTML,
    )

    assert response.headers["location"] == "/review"


async def test_too_many_attempts_are_rate_limited(client: httpx.AsyncClient, seed: Seed) -> None:
    form = await client.get("/login", headers=HTML)
    token = csrf_in(form.text)
    statuses = []
    for _ in range(11):
        response = await client.post(
            "/login",
            data={"email": email("client"), "password": "wrong guess!", "csrf_token": token},
            headers=HTML,
        )
        statuses.append(response.status_code)

    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    assert "too many sign-in attempts" in response.text


async def test_sign_out_ends_the_session(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "editor")
    old_cookie = dict(client.cookies)

    response = await client.post("/logout", data={"csrf_token": token}, headers=HTML)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert (await client.get("/", headers=HTML)).status_code == 303
    assert old_cookie != dict(client.cookies)
