"""Schemathesis against /api/openapi.json of a seeded app: no request may cause a 5xx.

The app runs as ``finagency web`` in its own process, called with an agency
admin's API token holding every scope, so the generated requests reach the handlers. The
example count is kept small so the whole run stays well under a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from api_support import ALL_SCOPES, api_settings, bearer
from hypothesis import HealthCheck, Phase, given, settings
from web_support import seed_database

from finagency.auth import service as auth
from finagency.auth.tokens import permissions_for_scopes
from finagency.core.db import transaction
from finagency.models import User
from finagency.runtime import open_services

MAX_EXAMPLES = 4


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[str]:
    """``finagency web`` in its own process (its own event loop), on the test's database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "FINAGENCY_DATABASE_URL": database_url,
        "FINAGENCY_DATA_DIR": str(tmp_path),
        "FINAGENCY_SECRET_KEY": "test-secret-key-for-api-tests-0123",
        "FINAGENCY_SCHEDULER__ENABLED": "false",
        "FINAGENCY_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).with_name("finagency")), "web", "--port", str(port)]
    with (tmp_path / "web.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "web.log").read_text()
            assert time.monotonic() < deadline, "the app did not start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def seed_with_token(database_url: str) -> str:
    async with open_services(api_settings(database_url)) as services:
        seeded = await seed_database(services)
        async with transaction(services.sessionmaker) as session:
            admin = await session.get(User, seeded.user_ids["admin"])
            assert admin is not None
            _, plaintext = await auth.create_api_token(
                session, admin, "schemathesis", permissions_for_scopes(ALL_SCOPES)
            )
    return plaintext


def test_no_generated_request_causes_a_server_error(database_url: str, served: str) -> None:
    token = asyncio.run(seed_with_token(database_url))
    headers = bearer(token)
    schema = schemathesis.openapi.from_url(f"{served}/api/openapi.json", timeout=30)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1"):
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=served, headers=headers, timeout=20)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )
            elif response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}, (case.method, case.formatted_path, body)

        call()
    assert operations > 40
    assert failures == []


def test_the_schema_is_served_with_the_error_shape(served: str) -> None:
    document = httpx.get(f"{served}/api/openapi.json", timeout=30).json()

    assert "ErrorResponse" in document["components"]["schemas"]
