"""The dashboard in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import ADMIN, APPROVER, Server, login

pytestmark = pytest.mark.e2e


def sign_in(page: object, server: Server, email: str, password: str) -> None:
    page.goto(f"{server.base_url}/")  # type: ignore[attr-defined]
    page.get_by_label("Email").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"{server.base_url}/")  # type: ignore[attr-defined]


def metric(page: object, key: str) -> str:
    text: str = page.locator(f'[data-metric="{key}"]').inner_text()  # type: ignore[attr-defined]
    return text


def test_overview_updates_live_without_a_reload(browser: object, server: Server) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, server, *APPROVER)
    assert page.get_by_role("heading", name="Overview").is_visible()
    # Every metric explains itself on hover.
    assert "pending" in (
        page.locator('[data-metric="backlog_pct"]').locator("..").get_attribute("title") or ""
    )
    page.evaluate("window.__notReloaded = true")
    before = metric(page, "in_review")

    # Someone else approves a draft; the open Overview must show it without a reload.
    with httpx.Client(base_url=server.base_url, timeout=10) as admin:
        login(admin, *ADMIN)
        drafts = admin.get("/api/v1/posts", params={"status": "in_review", "limit": 50}).json()[
            "items"
        ]
        clean = [post for post in drafts if post.get("check_verdict") != "block"]
        assert clean, "the demo leaves clean news takes for a person to approve"
        token_page = admin.get("/review").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', token_page)
        assert token
        approved = admin.post(
            f"/api/v1/posts/{clean[0]['id']}/approve",
            json={"note": "browser test"},
            headers={"X-CSRF-Token": token.group(1)},
        )
        assert approved.status_code == 200, approved.text

    page.wait_for_function(
        '([key, before]) => document.querySelector(`[data-metric="${key}"]`).textContent !== before',
        arg=["in_review", before],
        timeout=10_000,
    )
    assert page.evaluate("window.__notReloaded") is True
    page.close()


def test_review_page_controls_are_labelled_and_work(browser: object, server: Server) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    sign_in(page, server, *APPROVER)
    page.get_by_role("link", name="Review").click()
    page.wait_for_url(re.compile(r".*/review$"))
    # One Approve and one Reject per draft (the bulk "Approve selected" button is apart).
    approve_buttons = page.get_by_role("button", name=re.compile(r"^Approve post \d+$"))
    reject_buttons = page.get_by_role("button", name=re.compile(r"^Reject post \d+$"))
    assert approve_buttons.count() >= 1
    assert reject_buttons.count() == approve_buttons.count()
    # Keyboard: an enabled Approve button can be focused and says what it approves.
    page.locator("article button:not([disabled])", has_text="Approve").first.focus()
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert re.fullmatch(r"Approve post \d+", focused), focused
    page.close()
