"""Traces from request to job to platform call, and request and job ids in every log line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from ops_support import FAKES, opened_app, seed_review, sign_in
from sqlalchemy import select, update

from finagency.config import TracingSettings
from finagency.core.db import transaction
from finagency.core.logging import configure_logging
from finagency.core.time import utcnow
from finagency.core.tracing import TRACE_ARG, configure_tracing, shutdown_tracing
from finagency.models import Job
from finagency.publishing.service import PUBLISH_TASK
from finagency.queue import JobContext, Notifier, Task, TaskRegistry, Worker, WorkerConfig, enqueue
from finagency.runtime import build_registry, build_worker


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    configure_tracing(TracingSettings(), exporter=spans)
    try:
        yield spans
    finally:
        shutdown_tracing()


async def test_one_trace_runs_from_the_approval_through_the_job_to_the_platform(
    database_url: str, exporter: InMemorySpanExporter
) -> None:
    async with opened_app(database_url) as opened:
        post_id = await seed_review(opened.services, "Ten-year yield at 4.2% on 1 Feb 2022.")
        token = await sign_in(opened.client)
        answer = await opened.client.post(
            f"/api/v1/posts/{post_id}/approve", json={}, headers={"X-CSRF-Token": token}
        )
        assert answer.status_code == 200, answer.text
        async with transaction(opened.services.sessionmaker) as session:
            await session.execute(update(Job).values(run_at=utcnow()))
        settings = opened.services.settings
        worker = build_worker(opened.services, build_registry(settings), Notifier())
        await worker.run_until_idle()
        received = (await opened.fakes.get("/mastodon/__fake__/posts")).json()
    spans = exporter.get_finished_spans()

    names = [span.name for span in spans]
    assert "POST /api/v1/posts/{post_id}/approve" in names, names
    assert f"job {PUBLISH_TASK}" in names, names
    request = next(s for s in spans if s.name == "POST /api/v1/posts/{post_id}/approve")
    job = next(s for s in spans if s.name == f"job {PUBLISH_TASK}")
    calls = [s for s in spans if s.kind is SpanKind.CLIENT and s.name.endswith(" fakes")]
    assert len(received) == 1  # the post reached the platform
    assert request.context is not None and job.context is not None and job.parent is not None
    assert job.context.trace_id == request.context.trace_id
    assert job.parent.span_id == request.context.span_id
    assert calls, [s.name for s in spans]
    for call in calls:
        assert call.context is not None and call.parent is not None
        assert call.context.trace_id == request.context.trace_id
        assert call.parent.span_id == job.context.span_id
        assert call.attributes is not None
        assert "url.full" not in call.attributes  # paths and queries can carry tokens
    assert request.attributes is not None
    assert request.attributes["request.id"] == answer.headers["x-request-id"]
    assert FAKES.endswith(str(calls[0].attributes["server.address"]))


async def test_with_tracing_off_jobs_carry_no_trace_context(database_url: str) -> None:
    async with opened_app(database_url) as opened:
        post_id = await seed_review(opened.services, "Two-year yield at 3.9% on 1 Feb 2022.")
        token = await sign_in(opened.client)
        answer = await opened.client.post(
            f"/api/v1/posts/{post_id}/approve", json={}, headers={"X-CSRF-Token": token}
        )
        async with opened.services.read_sessionmaker() as session:
            args = (await session.execute(select(Job.args))).scalars().all()
    assert answer.status_code == 200
    assert args and all(TRACE_ARG not in item for item in args)


def add_echo_route(app: FastAPI) -> None:
    log = structlog.get_logger("ops-test")

    async def echo() -> dict[str, Any]:
        log.info("echo.called")
        return dict(structlog.contextvars.get_contextvars())

    app.add_api_route("/echo-context", echo, methods=["GET"])


async def test_requests_get_an_id_that_reaches_their_log_lines(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with opened_app(database_url) as opened:
        add_echo_route(opened.app)
        configure_logging("INFO", json=True)
        given = await opened.client.get("/echo-context", headers={"X-Request-ID": "abc-123"})
        made = await opened.client.get("/echo-context", headers={"X-Request-ID": "bad id\n"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "echo" in line]

    assert given.headers["x-request-id"] == "abc-123"
    assert given.json()["request_id"] == "abc-123"
    assert made.headers["x-request-id"] != "bad id\n"  # an unusable id is replaced
    assert made.json()["request_id"] == made.headers["x-request-id"]
    assert {line["request_id"] for line in lines} == {"abc-123", made.headers["x-request-id"]}


async def test_a_jobs_log_lines_carry_its_job_id(database_url: str) -> None:
    seen: list[dict[str, Any]] = []

    async def record(ctx: JobContext) -> None:
        seen.append(dict(structlog.contextvars.get_contextvars()))

    registry = TaskRegistry([Task("ops.record", record)])
    async with opened_app(database_url) as opened:
        async with transaction(opened.services.sessionmaker) as session:
            job_id = await enqueue(session, "ops.record", {})
        worker = Worker(opened.services.sessionmaker, registry, WorkerConfig(), notifier=Notifier())
        await worker.run_until_idle()

    assert seen == [{"job_id": job_id, "task": "ops.record"}]
