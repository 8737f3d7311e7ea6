"""The dashboard's daily work in a real browser (Debian's chromium driven by Playwright):
approve and watch it go out, reject with a reason, drag a post on the calendar, retry a dead
letter, a client viewer fenced to their brand, and hostile post text shown as text.

One demo server for this module (its own SQLite file), so what these tests add (a second
brand, a dead letter, hostile text) does not disturb the other end-to-end tests.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from tests.e2e.conftest import ADMIN, APPROVER, Server, login, running_server
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.e2e

HOSTILE = "<script>window.__pwned = 1</script><b>bold claim</b> & more"
OTHER_BRAND_TEXT = "Kestrel-only draft nobody else may read"
CLIENT = ("client@kestrel.test", "client-viewer-pass-123")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("browser-dashboard")) as started:
        _wait_for_first_drafts(started)
        # In a thread of its own: the test session may already run an event loop here.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _arrange(started.env["FINAGENCY_DATABASE_URL"])).result()
        yield started


def _wait_for_first_drafts(site: Server) -> None:
    """The demo drafts its first items in one long write at start; wait until that is done."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with httpx.Client(base_url=site.base_url, timeout=30) as client:
            try:
                login(client, *ADMIN)
                drafts = client.get("/api/v1/posts", params={"status": "in_review"}).json()
                if drafts["total"] >= 3:
                    return
            except (AssertionError, httpx.HTTPError):
                pass
        time.sleep(1)
    pytest.fail(f"the demo drafted nothing within 120 s:\n{site.log()[-3000:]}")


async def _arrange(url: str) -> None:
    """A second brand with its own draft, a client viewer of the demo brand, a dead letter
    and a post with hostile text, written through the product's own services."""
    from sqlalchemy import select

    from finagency.auth import service as auth
    from finagency.brands import service as brands
    from finagency.core.db import create_engine, create_sessionmaker, transaction
    from finagency.core.time import utcnow
    from finagency.models import Brand, ContentItem, Job, JobState, Post

    engine = create_engine(url, busy_timeout_ms=60_000)  # the demo is busy drafting at start
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            demo = (await session.execute(select(Brand).order_by(Brand.id))).scalars().first()
            assert demo is not None
            other = await brands.create_brand(session, slug="kestrel", name="Kestrel Private")
            account = await brands.add_account(session, other, platform="sandbox", handle="kestrel")
            for brand, text in ((other, OTHER_BRAND_TEXT), (demo, HOSTILE)):
                target = (
                    account if brand is other else (await brands.list_accounts(session, demo.id))[0]
                )
                item = ContentItem(brand_id=brand.id, kind="editorial", title="e2e")
                session.add(item)
                await session.flush()
                session.add(
                    Post(
                        brand_id=brand.id,
                        content_item_id=item.id,
                        account_id=target.id,
                        platform=target.platform,
                        text=text,
                        status="in_review",
                        content_hash=f"e2e-{brand.id}",
                        check_verdict="block",  # keeps it out of any approve-all path
                    )
                )
            user = await auth.create_user(session, CLIENT[0], CLIENT[1], name="Client Viewer")
            await auth.grant_role(session, user.id, demo.id, "client")
            session.add(
                Job(
                    queue="default",
                    task="e2e.no_such_task",
                    args={},
                    state=JobState.DISCARDED.value,
                    attempt=3,
                    max_attempts=3,
                    brand_id=demo.id,
                    finalized_at=utcnow(),
                    last_error="HTTP 503 from the platform",
                    dlq_reason="max_attempts",
                    errors=[
                        {"at": utcnow().isoformat(), "attempt": n, "error": f"HTTP 503 try {n}"}
                        for n in (1, 2, 3)
                    ],
                )
            )
    finally:
        await engine.dispose()


@contextmanager
def _api(site: Server, user: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=10) as client:
        login(client, *user)
        yield client


def _token(client: httpx.Client) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/review").text)
    assert found
    return found.group(1)


def _wait_for(predicate: object, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds} s")


def _review_post_ids(page: object) -> list[int]:
    ids: list[int] = []
    for button in page.locator("button:not([disabled])", has_text="Approve post").all():  # type: ignore[attr-defined]
        match = re.search(r"Approve post (\d+)", button.text_content() or "")
        if match:
            ids.append(int(match.group(1)))
    return ids


def test_approve_then_watch_it_published_on_the_overview(browser: object, site: Server) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    overview = context.new_page()
    sign_in(overview, site, *APPROVER)
    overview.evaluate("window.__notReloaded = true")
    review = context.new_page()
    review.goto(f"{site.base_url}/review")
    post_id = _review_post_ids(review)[0]
    with review.expect_navigation():
        review.get_by_role("button", name=f"Approve post {post_id}", exact=True).click()
    assert review.get_by_text(f"Post {post_id} approved").is_visible()

    with _api(site, ADMIN) as admin:
        # Bring it forward to now so the sandbox publishes it at once.
        moved = admin.post(
            f"/calendar/{post_id}/move",
            data={"at": datetime.now(UTC).isoformat()},
            headers={"accept": "application/json", "X-CSRF-Token": _token(admin)},
        )
        assert moved.status_code == 200, moved.text
        _wait_for(
            lambda: admin.get(f"/api/v1/posts/{post_id}").json()["status"] == "published",
            45,
            f"post {post_id} being published",
        )
        posted = int(admin.get("/api/v1/stats").json()["posted"])

    overview.wait_for_function(
        "min => Number(document.querySelector('[data-metric=\"posted\"]').textContent"
        ".replace(/,/g, '')) >= min",
        arg=posted,
        timeout=15_000,
    )
    assert overview.evaluate("window.__notReloaded") is True
    context.close()


def test_reject_with_a_reason(browser: object, site: Server) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, site, *APPROVER)
    page.goto(f"{site.base_url}/review")
    with _api(site, ADMIN) as admin:
        drafts = admin.get("/api/v1/posts", params={"status": "in_review", "limit": 200}).json()
    # Any draft but the hostile one, which a later test needs still waiting for review.
    hostile = {p["id"] for p in drafts["items"] if p["text"] == HOSTILE}
    post_id = [i for i in _review_post_ids(page) if i not in hostile][-1]
    page.get_by_label("Reason for rejecting").nth(_index_of(page, post_id)).fill(
        "Cite the source of the rate, please."
    )
    with page.expect_navigation():
        page.get_by_role("button", name=f"Reject post {post_id}", exact=True).click()
    assert page.get_by_text(f"Post {post_id} rejected.").is_visible()
    with _api(site, ADMIN) as admin:
        detail = admin.get(f"/api/v1/posts/{post_id}").json()
    assert detail["status"] == "rejected"
    assert detail["approvals"][-1]["note"] == "Cite the source of the rate, please."
    page.close()


def _index_of(page: object, post_id: int) -> int:
    ids = page.locator("textarea[name='reason']").evaluate_all(  # type: ignore[attr-defined]
        "nodes => nodes.map(n => n.id)"
    )
    return list(ids).index(f"reason-{post_id}")


def test_reschedule_by_dragging_on_the_calendar(browser: object, site: Server) -> None:
    day = date.today() + timedelta(days=2)
    target = day + timedelta(days=1) if day.weekday() < 6 else day - timedelta(days=1)
    with _api(site, ADMIN) as admin:
        token = _token(admin)
        drafts = admin.get("/api/v1/posts", params={"status": "in_review", "limit": 100}).json()
        candidate = next(p for p in drafts["items"] if p["check_verdict"] != "block")
        approved = admin.post(
            f"/api/v1/posts/{candidate['id']}/approve", json={}, headers={"X-CSRF-Token": token}
        )
        assert approved.status_code == 200, approved.text
        moved = admin.post(
            f"/calendar/{candidate['id']}/move",
            data={"at": f"{day.isoformat()}T11:15"},
            headers={"accept": "application/json", "X-CSRF-Token": token},
        )
        assert moved.status_code == 200, moved.text
    post_id = candidate["id"]

    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, site, *ADMIN)
    page.goto(f"{site.base_url}/calendar?view=week&date={day.isoformat()}")
    entry = page.locator(f'.cal-entry[data-post-id="{post_id}"]')
    assert entry.get_attribute("draggable") == "true"
    _drag(page, entry, page.locator(f'.cal-day[data-date="{target.isoformat()}"] h3'))
    page.get_by_text(f"Post {post_id} moved to {target.isoformat()} 11:15 UTC.").wait_for()
    assert (
        page.locator(
            f'.cal-day[data-date="{target.isoformat()}"] .cal-entry[data-post-id="{post_id}"]'
        ).count()
        == 1
    )

    with _api(site, ADMIN) as admin:
        detail = admin.get(f"/api/v1/posts/{post_id}").json()
        events = admin.get("/audit").text
    assert detail["scheduled_at"].startswith(f"{target.isoformat()}T11:15")
    assert "post.rescheduled" in events
    # Still there after a reload: the server moved it, not just the page.
    page.reload()
    assert (
        page.locator(
            f'.cal-day[data-date="{target.isoformat()}"] .cal-entry[data-post-id="{post_id}"]'
        ).count()
        == 1
    )
    page.close()


def _drag(page: object, source: object, target: object) -> None:
    """HTML5 drag and drop as the browser delivers it: dragstart on the post, dragover and
    drop on the day, one DataTransfer throughout. (Chromium's synthesised mouse drag starts a
    native drag only some of the time when headless, so the events are dispatched directly.)"""
    transfer = page.evaluate_handle("() => new DataTransfer()")  # type: ignore[attr-defined]
    source.dispatch_event("dragstart", {"dataTransfer": transfer})  # type: ignore[attr-defined]
    target.dispatch_event("dragenter", {"dataTransfer": transfer})  # type: ignore[attr-defined]
    target.dispatch_event("dragover", {"dataTransfer": transfer})  # type: ignore[attr-defined]
    target.dispatch_event("drop", {"dataTransfer": transfer})  # type: ignore[attr-defined]
    source.dispatch_event("dragend", {"dataTransfer": transfer})  # type: ignore[attr-defined]


def test_retry_a_dead_letter(browser: object, site: Server) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, site, *ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dead letters").click()
    page.wait_for_url(re.compile(r".*/dead-letters$"))
    card = page.locator("article.dead-letter", has_text="e2e.no_such_task")
    assert card.get_by_text("max_attempts").is_visible()
    card.get_by_text("Error history (3)").click()
    assert card.get_by_text("HTTP 503 try 2").is_visible()
    job_id = int(re.search(r"Job (\d+)", card.locator("h2").inner_text()).group(1))  # type: ignore[union-attr]
    with page.expect_navigation():
        card.get_by_role("button", name=f"Retry job {job_id}", exact=True).click()
    assert page.get_by_text("1 of 1 dead letter(s) retried.").is_visible()
    with _api(site, ADMIN) as admin:
        audit = admin.get("/audit").text
    assert "job.retry" in audit
    page.close()


def test_client_viewer_cannot_see_another_brand(browser: object, site: Server) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, site, *CLIENT)
    for path in ("/", "/review", "/posts", "/calendar", "/analytics", "/dead-letters", "/audit"):
        page.goto(f"{site.base_url}{path}")
        body = page.locator("body").inner_text()
        assert OTHER_BRAND_TEXT not in body, path
        assert "Kestrel" not in body, path
    # No decision or scheduling controls for a client viewer.
    page.goto(f"{site.base_url}/review")
    assert page.get_by_role("button", name="Approve").count() == 0
    with _api(site, ADMIN) as admin:
        drafts = admin.get("/api/v1/posts", params={"status": "in_review", "limit": 200}).json()
        hidden = next(p["id"] for p in drafts["items"] if p["text"] == OTHER_BRAND_TEXT)
    answer = page.goto(f"{site.base_url}/compose/{hidden}")
    assert answer is not None and answer.status == 404
    answer = page.goto(f"{site.base_url}/calendar/{hidden}/move")
    assert answer is not None and answer.status == 404
    page.close()


def test_hostile_post_text_is_shown_as_text(browser: object, site: Server) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, site, *ADMIN)
    for path in ("/review", "/posts?status=in_review"):
        page.goto(f"{site.base_url}{path}")
        assert (
            "<script>window.__pwned = 1</script><b>bold claim</b> & more"
            in page.locator("main").inner_text()
        ), path
        assert page.locator("main b", has_text="bold claim").count() == 0, path
        assert page.evaluate("window.__pwned === undefined"), path
    with _api(site, ADMIN) as admin:
        drafts = admin.get("/api/v1/posts", params={"status": "in_review", "limit": 200}).json()
        hostile = next(p["id"] for p in drafts["items"] if p["text"] == HOSTILE)
    page.goto(f"{site.base_url}/compose/{hostile}")
    assert page.get_by_label("Text").input_value() == HOSTILE
    # The live previews draw the same text with textContent only.
    page.locator(".preview").first.wait_for()
    assert page.locator(".preview b", has_text="bold claim").count() == 0
    assert HOSTILE.split("<b>")[0] in page.locator(".preview").first.inner_text()
    assert page.evaluate("window.__pwned === undefined")
    page.close()
