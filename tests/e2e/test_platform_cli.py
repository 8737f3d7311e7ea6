"""`finagency publish` against `finagency fake-platforms`, for every platform, as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from finagency.integrations.platforms.fakes.server import TEST_CREDENTIALS, base_url_for
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fakes_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "finagency.cli.main", "fake-platforms", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("fake-platforms did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def publish(
    platform: str, credentials: dict[str, str], base_url: str, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    creds = tmp_path / f"{platform}.json"
    creds.write_text(json.dumps(credentials))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "finagency.cli.main",
            "publish",
            "--platform",
            platform,
            "--credentials",
            str(creds),
            "--base-url",
            base_url,
            "--text",
            f"Markets note for {platform}: EUR/USD 1.0856 on 29 Jan 2016.",
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("platform", sorted(TEST_CREDENTIALS))
def test_publish_reaches_each_fake_platform(platform: str, fakes_url: str, tmp_path: Path) -> None:
    credentials = dict(TEST_CREDENTIALS[platform])
    base_url = base_url_for(fakes_url, platform)
    if platform == "webhook":
        credentials["url"] = base_url
    result = publish(platform, credentials, base_url, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["platform"] == platform
    # Incoming webhooks (Slack hook mode, generic webhooks) may have no id; the others do.
    if platform not in {"webhook"}:
        assert answer["external_id"], answer


def test_publish_reports_a_dead_token_and_exits_non_zero(fakes_url: str, tmp_path: Path) -> None:
    credentials = {"access_token": "mastodon-wrong-token"}
    result = publish("mastodon", credentials, base_url_for(fakes_url, "mastodon"), tmp_path)
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "external_auth_expired"
