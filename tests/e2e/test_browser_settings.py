"""First run in a real browser: the setup page on an empty database, then Settings → Users."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port, wait_until_healthy

pytestmark = pytest.mark.e2e


OWNER = ("owner@agency.test", "owner passphrase 2026")
NEW_USER = ("casey@client.test", "casey passphrase 2026")


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`finagency serve` (no demo) on a fresh SQLite file: the database has no user at all."""
    workdir: Path = tmp_path_factory.mktemp("setup")
    port = free_port()
    env = {
        **os.environ,
        "FINAGENCY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'finagency.db'}",
        "FINAGENCY_PORT": str(port),
        "FINAGENCY_HOST": "127.0.0.1",
        "FINAGENCY_SECRET_KEY": "e2e-settings-secret-key",
        "FINAGENCY_SCHEDULER__ENABLED": "false",
    }
    log_path = workdir / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "finagency.cli.main", "serve"],
            env=env,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_setup_then_create_a_user_and_change_their_role(browser: object, empty_server: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    # An empty database sends the first visitor to the setup page.
    page.goto(f"{empty_server}/")
    page.wait_for_url(re.compile(r".*/setup$"))
    page.get_by_label("Email").fill(OWNER[0])
    page.get_by_label("Password (at least 10 characters)").fill(OWNER[1])
    page.get_by_label("Repeat the password").fill(OWNER[1])
    page.get_by_label("Brand name").fill("Acme Capital")
    page.get_by_label("Short name (lower-case letters, digits, dashes)").fill("acme")
    page.get_by_role("button", name="Create admin and brand").click()
    page.wait_for_url(f"{empty_server}/")

    # Setup is closed for good now.
    assert page.request.get(f"{empty_server}/setup").status == 404

    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Users and roles").click()
    page.wait_for_url(re.compile(r".*/settings/users$"))
    page.get_by_label("Email").fill(NEW_USER[0])
    page.get_by_label("First password (tell them to change it)").fill(NEW_USER[1])
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Create user in Acme Capital").click()
    page.wait_for_url(re.compile(r".*/settings/users$"))
    row = page.get_by_role("row").filter(has_text=NEW_USER[0])
    assert "Acme Capital: editor" in row.inner_text()

    page.get_by_label(f"Role for {NEW_USER[0]}").select_option("approver")
    page.get_by_role("button", name=f"Change role of {NEW_USER[0]}").click()
    page.wait_for_url(re.compile(r".*/settings/users$"))
    assert page.get_by_role("status").filter(has_text="now has approver").is_visible()
    assert (
        "Acme Capital: approver"
        in page.get_by_role("row").filter(has_text=NEW_USER[0]).inner_text()
    )

    # The new user signs in with the password they were given.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login$"))
    page.get_by_label("Email").fill(NEW_USER[0])
    page.get_by_label("Password").fill(NEW_USER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{empty_server}/")
    assert page.get_by_text(NEW_USER[0]).first.is_visible()
    page.close()
