"""The Reports page in a real browser, and `finagency report --compare-to` on the demo's history."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ADMIN, Server, login

pytestmark = pytest.mark.e2e


def _weeks() -> tuple[str, str, str]:
    """Last seven whole days, and the seven before them (inside the demo's sample fortnight)."""
    today = datetime.now(UTC).date()
    last = today - timedelta(days=1)
    first = today - timedelta(days=7)
    before = f"{today - timedelta(days=14)}..{today - timedelta(days=8)}"
    return first.isoformat(), last.isoformat(), before


@pytest.fixture(scope="module")
def history(server: Server) -> Server:
    """Wait (polling, bounded) until the demo's worker has written its sample history."""
    first, last, before = _weeks()
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        login(client, *ADMIN)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            answer = client.get(
                "/api/v1/reports/generate",
                params={"from": first, "to": last, "compare_to": before},
            )
            if answer.status_code == 200 and "sample data" in answer.text:
                return server
            time.sleep(1)
    pytest.fail(f"the demo wrote no metric history:\n{server.log()[-3000:]}")


def test_reports_page_compares_two_weeks_in_the_browser(history: Server, browser: object) -> None:
    first, last, before = _weeks()
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{history.base_url}/")
    page.get_by_label("Email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{history.base_url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.wait_for_url(f"{history.base_url}/reports")
    page.get_by_label("From").fill(first)
    page.get_by_label("To", exact=True).fill(last)
    page.get_by_label("Compare with (FIRST..LAST)").fill(before)
    page.get_by_role("button", name="Show report").click()
    page.get_by_role("heading", name="Executive summary").wait_for()
    summary = page.locator("section", has=page.get_by_role("heading", name="Executive summary"))
    headers = summary.locator("th").all_inner_texts()
    assert headers == ["Metric", "Before", "After", "Change"]
    published = summary.locator("tr", has_text="Posts published").locator("td").all_inner_texts()
    assert published[1] != "n/a" and int(published[2].replace(",", "")) > 0
    assert page.locator("svg.report-chart").count() == 3
    assert page.get_by_role("img", name="Backlog over time").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    page.close()


def test_cli_report_on_the_demo_history(history: Server, tmp_path: Path) -> None:
    first, last, before = _weeks()
    window = ("--from", first, "--to", last, "--compare-to", before)
    markdown = history.cli("report", *window)
    assert markdown.returncode == 0, markdown.stderr
    assert "| Metric | Before | After | Change |" in markdown.stdout
    assert "## Publishing per platform" in markdown.stdout
    assert "## Open risks" in markdown.stdout
    for fmt, magic in (("html", b"<!doctype html>"), ("pdf", b"%PDF-")):
        target = tmp_path / f"report.{fmt}"
        made = history.cli("report", *window, "--format", fmt, "--output", str(target))
        assert made.returncode == 0, made.stderr
        assert target.read_bytes().startswith(magic)
    bad = history.cli("report", "--compare-to", "last week")
    assert bad.returncode == 2 and "2026-03-01..2026-03-07" in bad.stderr
