"""The demo switched from the sandbox to the local fake platforms with one setting."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ADMIN, login, running_server

pytestmark = pytest.mark.e2e

PLATFORMS = {"x", "linkedin", "mastodon", "bluesky", "telegram"}


def test_demo_publishes_to_fake_platforms_and_reads_engagement_back(tmp_path: Path) -> None:
    with (
        running_server(
            tmp_path,
            FINAGENCY_DEMO_PLATFORMS="fake",
            FINAGENCY_SCHEDULER__ENGAGEMENT_EVERY_SECONDS="5",
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        login(client, *ADMIN)
        deadline = time.monotonic() + 90
        published: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            published = client.get(
                "/api/v1/posts", params={"status": "published", "limit": 200}
            ).json()["items"]
            if {post["platform"] for post in published} >= PLATFORMS:
                break
            time.sleep(1)
        assert {post["platform"] for post in published} >= PLATFORMS, server.log()[-3000:]

        # What the platforms received is what was approved: the fakes hold the posts.
        x_state = httpx.get(f"{server.base_url}/fakes/x/__fake__/state", timeout=10).json()
        x_ids = {str(post["id"]) for post in x_state["posts"]}
        assert {post["external_id"] for post in published if post["platform"] == "x"} <= x_ids
        mastodon = httpx.get(f"{server.base_url}/fakes/mastodon/__fake__/posts", timeout=10).json()
        assert len(mastodon) >= len([p for p in published if p["platform"] == "mastodon"])

        # The audience likes the posts on the fakes; engagement comes back through the clients.
        deadline = time.monotonic() + 90
        totals: dict[str, int] = {}
        while time.monotonic() < deadline:
            totals = client.get("/api/v1/engagement/totals").json()
            if totals.get("likes", 0) > 0:
                break
            time.sleep(2)
        assert totals.get("likes", 0) > 0, totals
