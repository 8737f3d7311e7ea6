"""OpenTelemetry traces from request to job to platform call, and the request id in every log.

Off by default: until ``configure_tracing`` installs a provider, spans are the API's no-ops
and cost next to nothing. On, spans go to an OTLP/HTTP collector (Jaeger, Tempo, ...). The
trace context crosses the queue inside the job's args (``TRACE_ARG``), so the worker's span
continues the trace of the request that enqueued the job.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finagency.config import TracingSettings

TRACER_NAME = "finagency"
TRACE_ARG = "_trace"  # the key of a job's args that carries the enqueuing request's context
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


def configure_tracing(
    settings: TracingSettings,
    *,
    service_name: str | None = None,
    exporter: SpanExporter | None = None,
) -> bool:
    """Install a tracer provider when tracing is on (or an exporter is given, as tests do).

    Returns whether spans are now recorded. Safe to call again: the newer provider wins.
    """
    global _provider
    if not settings.enabled and exporter is None:
        return _provider is not None
    resource = Resource.create({"service.name": service_name or settings.service_name})
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio))
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            # A short timeout: a collector that is down must not hold up a shutdown for long.
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint, timeout=5))
        )
    old, _provider = _provider, provider
    if old is not None:
        old.shutdown()
    return True


def shutdown_tracing() -> None:
    """Flush and stop the provider (end of process, end of a test)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def tracer() -> trace.Tracer:
    if _provider is not None:
        return _provider.get_tracer(TRACER_NAME)
    return trace.get_tracer(TRACER_NAME)


def inject_context() -> dict[str, str]:
    """The current trace context as W3C headers; empty when no span is being recorded."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(carrier)
    return carrier


def extract_context(carrier: Mapping[str, Any] | None) -> Context | None:
    if not carrier:
        return None
    return _PROPAGATOR.extract({str(k): str(v) for k, v in carrier.items()})


def with_trace_context(args: dict[str, Any]) -> dict[str, Any]:
    """A job's args plus the enqueuing span's context (unchanged when tracing is off)."""
    carrier = inject_context()
    return {**args, TRACE_ARG: carrier} if carrier else args


@contextmanager
def job_span(task: str, job_id: int, args: Mapping[str, Any]) -> Iterator[Span]:
    """The worker's span for one run, a child of the request that enqueued the job."""
    context = extract_context(args.get(TRACE_ARG))
    with tracer().start_as_current_span(
        f"job {task}",
        context=context,
        kind=SpanKind.CONSUMER,
        attributes={"job.id": job_id, "job.task": task},
    ) as span:
        yield span


class TracingTransport(httpx.AsyncBaseTransport):
    """A client span around each outgoing HTTP call (platform APIs, feeds).

    Only the method, host and status are recorded: paths and queries can hold tokens
    (Telegram puts the bot token in the path), and secrets never leave the process.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attributes = {
            "http.request.method": request.method,
            "server.address": request.url.host,
        }
        with tracer().start_as_current_span(
            f"{request.method} {request.url.host}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            response = await self.inner.handle_async_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def trace_http_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Wrap ``client``'s transport (outermost, so redirects and the egress guard are inside)."""
    transport = client._transport
    if not isinstance(transport, TracingTransport):
        client._transport = TracingTransport(transport)
    return client


def _route_template(scope: Scope) -> str | None:
    """The matched route's template with any router prefix it lacks ("/api/v1/posts/{id}"),
    so spans group by route rather than by id."""
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return None
    if ":path}" in template:  # a path parameter spans segments: counting them is meaningless
        return template
    actual = [part for part in str(scope.get("path", "")).split("/") if part]
    wanted = [part for part in template.split("/") if part]
    if len(wanted) > len(actual):
        return template
    prefix = actual[: len(actual) - len(wanted)]
    return "/" + "/".join([*prefix, *wanted])


class RequestContextMiddleware:
    """Gives every request an id (kept from ``X-Request-ID`` when sane) bound into the logs,
    returns it in the response, and opens the request's server span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        given = headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        method = scope.get("method", "GET")
        status = {"code": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        with (
            structlog.contextvars.bound_contextvars(request_id=request_id),
            tracer().start_as_current_span(
                f"{method} {scope.get('path', '')}",
                context=_PROPAGATOR.extract(headers),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "request.id": request_id},
            ) as span,
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                template = _route_template(scope)
                if template:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                if status["code"]:
                    span.set_attribute("http.response.status_code", status["code"])
                    if status["code"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
