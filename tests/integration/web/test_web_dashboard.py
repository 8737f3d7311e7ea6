"""The dashboard's planning and repair pages: calendar, compose, dead letters, unconfirmed
posts, bulk review, analytics and the Overview's additions, driven through their forms."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from web_support import HTML, SCRIPT_TEXT, Login, Seed, csrf_in

from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import (
    AuditEvent,
    ContentItem,
    EngagementSnapshot,
    Finding,
    Job,
    JobState,
    Post,
    PostStatus,
)
from finagency.web.templating import NAV_ITEMS

JSON = {"accept": "application/json"}
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def _post(services: Services, post_id: int) -> Post:
    async with services.sessionmaker() as session:
        found = await session.get(Post, post_id)
        assert found is not None
        return found


async def _live_publish_job(services: Services, post_id: int) -> Job | None:
    async with services.sessionmaker() as session:
        return (
            await session.execute(
                select(Job).where(
                    Job.unique_key == f"publish:post:{post_id}",
                    Job.state == JobState.AVAILABLE.value,
                )
            )
        ).scalar_one_or_none()


async def _audit_actions(services: Services, object_id: int) -> list[str]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        )
        return list(rows)


def _next_monday_10() -> datetime:
    now = utcnow()
    days = 7 - now.weekday()
    return (now + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)


async def test_calendar_shows_scheduled_posts_of_the_viewers_brands_only(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    await login(client, "approver")
    due = await _post(services, seed.post_id("Due later"))
    assert due.scheduled_at is not None

    week = await client.get(
        "/calendar", params={"date": due.scheduled_at.date().isoformat()}, headers=HTML
    )
    month = await client.get(
        "/calendar",
        params={"view": "month", "date": due.scheduled_at.date().isoformat()},
        headers=HTML,
    )

    assert week.status_code == 200
    assert f'data-post-id="{due.id}"' in week.text
    assert f'data-post-id="{due.id}"' in month.text
    assert "Beta" not in week.text.split('id="calendar"')[1]
    # The approver cannot schedule: no drag handle and no Move link.
    assert 'draggable="true"' not in week.text
    assert f"/calendar/{due.id}/move" not in week.text


async def test_moving_a_post_on_the_calendar_reschedules_its_job_and_audits_it(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "editor")
    post_id = seed.post_id("Due later")
    target = _next_monday_10()

    page = await client.get("/calendar", headers=HTML)
    moved = await client.post(
        f"/calendar/{post_id}/move",
        data={"at": target.strftime("%Y-%m-%dT%H:%M")},
        headers={**JSON, "X-CSRF-Token": token},
    )

    assert 'draggable="true"' in page.text
    assert moved.status_code == 200, moved.text
    assert moved.json()["scheduled_at"] == target.isoformat()
    post = await _post(services, post_id)
    assert post.scheduled_at == target
    assert post.status == PostStatus.SCHEDULED
    job = await _live_publish_job(services, post_id)
    assert job is not None and job.run_at == target
    assert "post.rescheduled" in await _audit_actions(services, post_id)

    # The keyboard path: the Move form, then back to the calendar with a message.
    later = target + timedelta(days=1, hours=2)
    form = await client.get(f"/calendar/{post_id}/move", headers=HTML)
    answer = await client.post(
        f"/calendar/{post_id}/move",
        data={"csrf_token": csrf_in(form.text), "at": later.strftime("%Y-%m-%dT%H:%M")},
        headers=HTML,
    )
    assert answer.status_code == 303
    shown = await client.get(answer.headers["location"], headers=HTML)
    assert f"Post {post_id} moved to {later:%Y-%m-%d %H:%M} UTC." in shown.text
    job = await _live_publish_job(services, post_id)
    assert job is not None and job.run_at == later


async def test_calendar_moves_that_must_be_refused(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "editor")
    headers = {**JSON, "X-CSRF-Token": token}
    due = seed.post_id("Due later")
    before = (await _post(services, due)).scheduled_at

    past = await client.post(
        f"/calendar/{due}/move", data={"at": "2001-01-01T10:00"}, headers=headers
    )
    garbage = await client.post(f"/calendar/{due}/move", data={"at": "soon"}, headers=headers)
    published = await client.post(
        f"/calendar/{seed.post_id('Published one')}/move",
        data={"at": _next_monday_10().isoformat()},
        headers=headers,
    )
    other_brand = await client.post(
        f"/calendar/{seed.post_id('Beta secret draft')}/move",
        data={"at": _next_monday_10().isoformat()},
        headers=headers,
    )
    no_token = await client.post(
        f"/calendar/{due}/move", data={"at": _next_monday_10().isoformat()}, headers=JSON
    )

    assert past.status_code == 422 and "past" in past.json()["error"]["message"]
    assert garbage.status_code == 422
    assert published.status_code == 409
    assert other_brand.status_code == 404
    assert no_token.status_code == 403
    assert (await _post(services, due)).scheduled_at == before


async def test_client_viewer_cannot_move_posts(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    token = await login(client, "client")
    answer = await client.post(
        f"/calendar/{seed.post_id('Due later')}/move",
        data={"at": _next_monday_10().isoformat()},
        headers={**JSON, "X-CSRF-Token": token},
    )
    assert answer.status_code == 403


async def test_dead_letters_page_retries_and_dismisses(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    async with transaction(services.sessionmaker) as session:
        job = await session.get(Job, seed.job_ids["dead_a"])
        assert job is not None
        job.errors = [{"at": "2026-01-01T00:00:00", "attempt": 1, "error": "<b>HTTP 400</b>"}]
    token = await login(client, "admin")

    page = await client.get("/dead-letters", headers=HTML)
    retried = await client.post(
        f"/dead-letters/{seed.job_ids['dead_a']}/retry", data={"csrf_token": token}, headers=HTML
    )
    dismissed = await client.post(
        "/dead-letters/bulk",
        data={"csrf_token": token, "action": "dismiss", "ids": [seed.job_ids["dead_system"]]},
        headers=HTML,
    )
    after = await client.get("/dead-letters", headers=HTML)

    assert "permanent_error" in page.text
    assert "&lt;b&gt;HTTP 400&lt;/b&gt;" in page.text and "<b>HTTP 400</b>" not in page.text
    assert retried.status_code == 303 and dismissed.status_code == 303
    assert "1 of 1 dead letter(s) dismissed." in after.text
    assert "No dead letters." in after.text
    async with services.sessionmaker() as session:
        states = {
            key: (await session.get(Job, job_id)).state  # type: ignore[union-attr]
            for key, job_id in seed.job_ids.items()
        }
    assert states == {"dead_a": "available", "dead_system": "cancelled"}
    assert "job.dismissed" in await _audit_actions(services, seed.job_ids["dead_system"])


async def test_dead_letters_of_other_brands_and_system_jobs_stay_hidden(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "other")  # an editor of brand b
    page = await client.get("/dead-letters", headers=HTML)
    answer = await client.post(
        "/dead-letters/bulk",
        data={"csrf_token": token, "action": "retry", "ids": [seed.job_ids["dead_a"]]},
        headers=HTML,
    )
    after = await client.get("/dead-letters", headers=HTML)

    assert f"Job {seed.job_ids['dead_a']}" not in page.text
    assert f"Job {seed.job_ids['dead_system']}" not in page.text
    assert answer.status_code == 303
    assert "Nothing was changed" in after.text
    async with services.sessionmaker() as session:
        job = await session.get(Job, seed.job_ids["dead_a"])
        assert job is not None and job.state == JobState.DISCARDED.value


async def test_unconfirmed_posts_went_out_or_publish_again(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    first, second = seed.post_id("Failed at the platform"), seed.post_id("Due later")
    async with transaction(services.sessionmaker) as session:
        for post_id in (first, second):
            post = await session.get(Post, post_id)
            assert post is not None
            post.status = PostStatus.UNCONFIRMED
    token = await login(client, "editor")

    page = await client.get("/unconfirmed", headers=HTML)
    out = await client.post(
        f"/unconfirmed/{first}/went-out",
        data={"csrf_token": token, "external_url": "https://sandbox.example/p/9"},
        headers=HTML,
    )
    again = await client.post(
        f"/unconfirmed/{second}/publish-again", data={"csrf_token": token}, headers=HTML
    )

    assert "It went out" in page.text and "Publish again" in page.text
    assert out.status_code == 303 and again.status_code == 303
    went = await _post(services, first)
    assert went.status == PostStatus.PUBLISHED
    assert went.external_url == "https://sandbox.example/p/9"
    assert (await _post(services, second)).status == PostStatus.SCHEDULED
    assert await _live_publish_job(services, second) is not None


async def test_compose_check_previews_every_account_and_saves_nothing(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "editor")
    async with services.sessionmaker() as session:
        before = len(list(await session.scalars(select(Post.id))))

    answer = await client.post(
        "/compose/check",
        json={"brand_id": seed.brand_ids["a"], "text": "Guaranteed returns on ACME " + "x" * 300},
        headers={**JSON, "X-CSRF-Token": token},
    )
    refused = await client.post(
        "/compose/check",
        json={"brand_id": seed.brand_ids["b"], "text": "hello"},
        headers={**JSON, "X-CSRF-Token": token},
    )
    no_token = await client.post(
        "/compose/check", json={"brand_id": seed.brand_ids["a"], "text": "x"}, headers=JSON
    )

    assert answer.status_code == 200, answer.text
    preview = answer.json()["previews"][0]
    assert preview["platform"] == "sandbox"
    assert preview["limit"] == 280 and preview["length"] > 280
    # Too long for one post on X: it becomes a thread whose parts each fit.
    assert len(preview["parts"]) >= 2 and all(n <= 280 for n in preview["lengths"])
    assert any(f["severity"] == "block" for f in preview["findings"])
    assert refused.status_code == 404
    assert no_token.status_code == 403
    async with services.sessionmaker() as session:
        assert len(list(await session.scalars(select(Post.id)))) == before


async def test_compose_sends_an_editor_item_to_review_for_a_chosen_slot(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "editor")
    page = await client.get("/compose", headers=HTML)
    slot = _next_monday_10()

    answer = await client.post(
        "/compose",
        data={
            "csrf_token": token,
            "brand_id": seed.brand_ids["a"],
            "title": "Weekly note",
            "text": "Rates held steady this week. <script>boom()</script>",
            "when": "custom",
            "custom_at": slot.strftime("%Y-%m-%dT%H:%M"),
            "account_ids": [],
        },
        headers=HTML,
    )
    none_chosen = (await client.get(answer.headers["location"], headers=HTML)).text
    accounts = page.text.count('name="account_ids"')
    account_id = int(page.text.split('name="account_ids" value="')[1].split('"')[0])
    saved = await client.post(
        "/compose",
        data={
            "csrf_token": token,
            "brand_id": seed.brand_ids["a"],
            "title": "Weekly note",
            "text": "Rates held steady this week. <script>boom()</script>",
            "when": "custom",
            "custom_at": slot.strftime("%Y-%m-%dT%H:%M"),
            "account_ids": [account_id],
        },
        headers=HTML,
    )
    review = await client.get("/review", headers=HTML)

    assert "Next free slot" in page.text and accounts == 1
    assert "Nothing was saved: choose at least one account" in none_chosen
    assert saved.status_code == 303 and saved.headers["location"] == "/review"
    assert "Rates held steady this week. &lt;script&gt;boom()&lt;/script&gt;" in review.text
    assert "<script>boom" not in review.text
    async with services.sessionmaker() as session:
        post = (
            await session.execute(select(Post).where(Post.text.like("Rates held steady%")))
        ).scalar_one()
    assert post.status == PostStatus.IN_REVIEW
    assert post.scheduled_at == slot
    assert post.author_id == seed.user_ids["editor"]


async def test_editing_a_post_returns_it_to_review_as_a_new_version(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "editor")
    post_id = seed.post_id("Due later")
    async with transaction(services.sessionmaker) as session:
        post = await session.get(Post, post_id)
        item = await session.get(ContentItem, post.content_item_id if post else 0)
        assert item is not None
        item.factsheet = {"kind": "editorial", "subject": "rates"}

    page = await client.get(f"/compose/{post_id}", headers=HTML)
    saved = await client.post(
        f"/compose/{post_id}",
        data={"csrf_token": token, "text": "Due later, reworded"},
        headers=HTML,
    )

    assert "Due later" in page.text and "Save and send to review" in page.text
    assert saved.status_code == 303
    post = await _post(services, post_id)
    assert (post.text, post.version, post.status) == ("Due later, reworded", 2, "in_review")
    assert await _live_publish_job(services, post_id) is None


async def test_bulk_approve_takes_clean_drafts_only(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    token = await login(client, "approver")
    clean = seed.post_id("A clean draft about the ECB rate")
    flagged = seed.post_id(SCRIPT_TEXT)

    page = await client.get("/review", headers=HTML)
    mixed = await client.post(
        "/review/bulk-approve", data={"csrf_token": token, "ids": [clean, flagged]}, headers=HTML
    )
    refused = (await client.get("/review", headers=HTML)).text
    still = (await _post(services, clean)).status
    ok = await client.post(
        "/review/bulk-approve", data={"csrf_token": token, "ids": [clean]}, headers=HTML
    )

    bulk_form = page.text.split('id="bulk-approve"')[1].split("</form>")[0]
    assert f'value="{clean}"' in bulk_form and f'value="{flagged}"' not in bulk_form
    assert mixed.status_code == 303 and "Nothing was approved" in refused
    assert still == PostStatus.IN_REVIEW
    assert ok.status_code == 303
    assert (await _post(services, clean)).status == PostStatus.SCHEDULED


async def test_analytics_page_charts_heatmap_and_top_posts(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    published = seed.post_id("Published one")
    async with transaction(services.sessionmaker) as session:
        post = await session.get(Post, published)
        assert post is not None and post.published_at is not None
        post.text = "Top " + SCRIPT_TEXT
        for likes in (3, 40):  # cumulative readings: the latest one counts
            session.add(
                EngagementSnapshot(brand_id=post.brand_id, post_id=post.id, likes=likes, replies=2)
            )
        when = post.published_at
    await login(client, "approver")

    page = await client.get("/analytics", headers=HTML)

    assert page.status_code == 200
    assert "<polyline" in page.text
    assert ESCAPED in page.text and "<script>alert" not in page.text
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[when.weekday()]
    assert f'title="{weekday} {when.hour:02d}:00 — 42.0"' in page.text
    assert 'href="/analytics/generators"' in page.text


async def test_overview_shows_platform_health_cache_rate_and_charts(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "approver")
    page = (await client.get("/", headers=HTML)).text

    assert "Cache hit rate" in page
    assert 'id="cache-hit-rate"' in page
    assert "<td>sandbox</td>" in page
    assert "Posts published per hour (UTC): 2 in 24 h" in page
    assert "<rect" in page


async def test_post_text_with_html_is_escaped_on_every_page(
    client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    """The same hostile text on every kind of post, then every page a person can open."""
    async with transaction(services.sessionmaker) as session:
        for post in await session.scalars(select(Post)):
            post.text = f"{post.text} {SCRIPT_TEXT}"
        for post_id in (seed.post_id("Failed at the platform"),):
            found = await session.get(Post, post_id)
            assert found is not None
            found.status = PostStatus.UNCONFIRMED
        for finding in await session.scalars(select(Finding)):
            finding.message = "<img src=x onerror=alert(2)>"
    await login(client, "admin")
    due = seed.post_id("Due later")
    scheduled = await _post(services, due)
    assert scheduled.scheduled_at is not None
    paths = [item.path for item in NAV_ITEMS] + [
        f"/calendar?date={scheduled.scheduled_at.date().isoformat()}",
        f"/calendar?view=month&date={scheduled.scheduled_at.date().isoformat()}",
        f"/calendar/{due}/move",
        f"/compose/{due}",
        "/posts?status=in_review",
    ]
    for path in paths:
        page = await client.get(path, headers=HTML, follow_redirects=True)
        assert page.status_code == 200, path
        assert "<script>alert(1)" not in page.text, path
        assert "<img src=x" not in page.text, path
        if path.startswith(("/review", "/calendar", "/unconfirmed", "/compose/", "/posts")):
            assert ESCAPED in page.text, path


async def test_pages_need_a_signed_in_user(client: httpx.AsyncClient, seed: Seed) -> None:
    for path in ("/calendar", "/compose", "/dead-letters", "/unconfirmed", "/analytics"):
        answer = await client.get(path, headers=HTML)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
