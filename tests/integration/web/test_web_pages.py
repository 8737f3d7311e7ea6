"""The dashboard pages: review with marked findings, decisions by form, queue, posts, headers."""

from __future__ import annotations

import httpx
from web_support import HTML, PROMISE, SCRIPT_TEXT, Login, Seed

from finagency.web.security import CONTENT_SECURITY_POLICY


async def test_review_page_escapes_post_text_and_marks_the_finding(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")

    page = (await client.get("/review", headers=HTML)).text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert (
        '<mark class="sev-block" title="block: promissory — Promises a return" tabindex="0">'
        f"{PROMISE}</mark>"
    ) in page
    assert "Approve is disabled: fix the blocking findings first (promissory)." in page
    assert "Beta secret draft" not in page


async def test_approving_from_the_review_page(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "approver")
    post_id = seed.post_id("A clean draft about the ECB rate")

    response = await client.post(
        f"/review/{post_id}/approve", data={"csrf_token": token, "note": ""}, headers=HTML
    )
    page = await client.get("/review", headers=HTML)

    assert response.status_code == 303
    assert f"Post {post_id} approved; it is scheduled for" in page.text
    assert "A clean draft about the ECB rate" not in page.text


async def test_author_sees_why_they_cannot_approve(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "approver")
    post_id = seed.post_id("The approver's own draft")

    before = (await client.get("/review", headers=HTML)).text
    response = await client.post(
        f"/review/{post_id}/approve", data={"csrf_token": token}, headers=HTML
    )
    after = (await client.get("/review", headers=HTML)).text

    assert "You wrote this post, so another approver must approve it (maker-checker)." in before
    assert response.status_code == 303
    assert f"Post {post_id} was not approved: maker-checker" in after
    assert 'role="alert"' in after


async def test_page_forms_without_csrf_token_are_refused(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")
    post_id = seed.post_id("A clean draft about the ECB rate")

    response = await client.post(f"/review/{post_id}/approve", data={}, headers=HTML)

    assert response.status_code == 403
    detail = await client.get(f"/api/v1/posts/{post_id}")
    assert detail.json()["status"] == "in_review"


async def test_rejecting_from_the_review_page_needs_a_reason(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "approver")
    post_id = seed.post_id(SCRIPT_TEXT)

    await client.post(f"/review/{post_id}/reject", data={"csrf_token": token}, headers=HTML)
    without = (await client.get("/review", headers=HTML)).text
    await client.post(
        f"/review/{post_id}/reject",
        data={"csrf_token": token, "reason": "No return promises, please."},
        headers=HTML,
    )
    with_reason = (await client.get("/review", headers=HTML)).text

    assert f"Post {post_id} was not rejected: a rejection needs a reason" in without
    assert f"Post {post_id} rejected." in with_reason
    assert "&lt;script&gt;" not in with_reason


async def test_editor_sees_the_queue_but_no_decision_buttons(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "editor")

    page = (await client.get("/review", headers=HTML)).text

    assert "Approving needs the approver role on Acme Capital." in page
    assert "/approve" not in page


async def test_queue_page_retries_a_dead_letter_and_pauses_a_queue(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "admin")
    job_id = seed.job_ids["dead_a"]

    listed = (await client.get("/queue", params={"state": "discarded"}, headers=HTML)).text
    retried = await client.post(
        f"/queue/jobs/{job_id}/retry", data={"csrf_token": token}, headers=HTML
    )
    after_retry = (await client.get("/queue", headers=HTML)).text
    await client.post("/queue/queues/publish/pause", data={"csrf_token": token}, headers=HTML)
    after_pause = (await client.get("/queue", headers=HTML)).text

    assert f'formaction="/queue/jobs/{job_id}/retry"' in listed
    assert retried.status_code == 303
    assert "Retry: 1 of 1 job(s) changed." in after_retry
    assert "Queue publish paused." in after_pause
    assert 'action="/queue/queues/publish/resume"' in after_pause


async def test_queue_bulk_action_from_the_page(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "admin")
    ids = [str(seed.job_ids["dead_a"]), str(seed.job_ids["dead_system"])]

    await client.post(
        "/queue/jobs/bulk",
        data={"csrf_token": token, "action": "retry", "ids": ids},
        headers=HTML,
    )
    page = (await client.get("/queue", params={"state": "available"}, headers=HTML)).text

    assert "Retry: 2 of 2 job(s) changed." in page


async def test_posts_page_links_only_to_web_urls(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "editor")

    page = (await client.get("/posts", params={"status": "published"}, headers=HTML)).text

    assert 'href="https://sandbox.example/posts/1" rel="noopener noreferrer"' in page
    assert "javascript:alert(1)" not in page
    assert "Beta published" not in page


async def test_every_page_renders_for_a_client_viewer(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "client")

    for path in ("/", "/review", "/posts", "/queue", "/market", "/audit"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert 'class="skip-link" href="#main"' in response.text
        assert '<button type="submit" class="quiet">Sign out</button>' in response.text


async def test_audit_page_shows_the_decisions_and_a_sound_chain(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "admin")
    post_id = seed.post_id("A clean draft about the ECB rate")
    await client.post(f"/review/{post_id}/approve", data={"csrf_token": token}, headers=HTML)

    page = (await client.get("/audit", headers=HTML)).text

    assert "Hash chain verified: all 2 event(s) are intact." in page
    assert "post.approved" in page and "post.scheduled" in page


async def test_security_headers_on_pages_api_and_static_files(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    responses = [
        await client.get("/login", headers=HTML),
        await client.get("/api/v1/stats"),
        await client.get("/static/app.css"),
        await client.get("/no-such-page"),
    ]

    for response in responses:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
    csp = responses[0].headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert responses[0].headers["cache-control"] == "no-store"
    assert "<script>" not in responses[0].text and "style=" not in responses[0].text
    # Only FastAPI's own Swagger page (no brand data on it) may run its inline bootstrap.
    docs = await client.get("/api/docs")
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]


async def test_a_form_without_its_csrf_token_gets_an_explaining_page(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")
    post_id = seed.post_id("A clean draft about the ECB rate")

    response = await client.post(f"/review/{post_id}/approve", data={"note": ""}, headers=HTML)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert '<h1 id="error-heading">Not allowed</h1>' in response.text
    # Nothing was approved.
    assert "A clean draft about the ECB rate" in (await client.get("/review", headers=HTML)).text


async def test_a_nul_character_in_a_form_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    # PostgreSQL cannot store NUL in text: the page must say so, not fail with a 500.
    token = await login(client, "approver")
    post_id = seed.post_id(SCRIPT_TEXT)

    refused = await client.post(
        f"/review/{post_id}/reject",
        data={"csrf_token": token, "reason": "No\x00 promises"},
        headers=HTML,
    )
    page = (await client.get("/review", headers=HTML)).text

    assert refused.status_code == 422
    assert "reason must not contain NUL characters" in refused.text
    assert f"/review/{post_id}/reject" in page  # still waiting for a decision
