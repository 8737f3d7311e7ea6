"""The Reports page and /api/v1/reports through the real app: view, download, save, list."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from report_support import History, seed_history

from finagency.app import create_app
from finagency.auth import service as auth
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models.metrics import HOUR
from finagency.reports import history as metric_history

HTML = {"accept": "text/html,application/xhtml+xml"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=database_url, secret_key=SecretStr("test-secret-key-for-report-pages-01")
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _seed(app: FastAPI) -> History:
    services: Services = app.state.services
    async with transaction(services.sessionmaker) as session:
        seeded = await seed_history(session, utcnow(), name="Acme <b>Capital</b>")
        await metric_history.backfill(session, seeded.start, seeded.end, seconds=HOUR)
        await auth.create_user(session, "boss@example.com", PASSWORD, name="Boss", is_admin=True)
    return seeded


async def _login(client: httpx.AsyncClient) -> str:
    form = await client.get("/login", headers=HTML)
    token = CSRF.search(form.text)
    assert token is not None
    answer = await client.post(
        "/login",
        data={"email": "boss@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        headers=HTML,
    )
    assert answer.status_code == 303, answer.text
    page = await client.get("/reports", headers=HTML)
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def _query(seeded: History) -> dict[str, str]:
    day = seeded.middle.date().isoformat()
    return {"from": day, "to": day, "compare_to": f"{seeded.start.date().isoformat()}..{day}"}


async def test_reports_page_shows_downloads_and_saves_a_report(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    seeded = await _seed(app)
    csrf = await _login(client)
    params = {
        **_query(seeded),
        "compare_to": f"{seeded.start.date()}..{seeded.start.date()}",
        "brand": "Acme <b>Capital</b>",
    }

    page = await client.get("/reports", params=params, headers=HTML)
    assert page.status_code == 200
    assert 'href="/reports" aria-current="page">Reports</a>' in page.text
    assert "Queue processing" in page.text and page.text.count("<svg") == 3
    assert "Scope: Acme &lt;b&gt;Capital&lt;/b&gt;" in page.text
    assert "<b>Capital</b>" not in page.text
    assert '<th scope="col" class="num">Change</th>' in page.text

    pdf = await client.get("/reports/download", params={**params, "format": "pdf"}, headers=HTML)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    markdown = await client.get("/reports/download", params={**params, "format": "md"})
    published = sum(len(lags) for lags in seeded.after.values())
    assert f"| Posts published | {len(seeded.before['x'])} | {published} |" in markdown.text

    refused = await client.post("/reports", data=params, headers=HTML)
    assert refused.status_code == 403
    saved = await client.post("/reports", data={**params, "csrf_token": csrf}, headers=HTML)
    assert saved.status_code == 303
    stored_page = await client.get(saved.headers["location"], headers=HTML)
    assert stored_page.status_code == 200 and "Executive summary" in stored_page.text

    listed = await client.get("/api/v1/reports")
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["period_start"].startswith(params["from"])
    assert item["summary"]["after"]["Posts published"] == published
    one = await client.get(f"/api/v1/reports/{item['id']}")
    assert "| Posts published |" in one.json()["markdown"]


async def test_a_bad_period_is_explained_not_failed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _seed(app)
    await _login(client)
    page = await client.get(
        "/reports", params={"from": "2026-02-30", "to": "2026-03-01"}, headers=HTML
    )
    assert page.status_code == 422
    assert "from must be a date like 2026-03-01" in page.text
    api = await client.get("/api/v1/reports/generate", params={"compare_to": "last week"})
    assert api.status_code == 422
    assert api.json()["error"]["code"] == "validation_failed"


async def test_reports_need_a_signed_in_user(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/reports")).status_code == 401
    page = await client.get("/reports", headers=HTML)
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]
