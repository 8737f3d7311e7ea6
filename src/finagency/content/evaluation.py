"""Evaluate generators: the same sample fact sheets through each one, every draft through the checks.

The point is to see, before switching a brand to a generator, what its drafts would run into:
how many state only grounded figures, how many the compliance checks would hold for review or
block (and why, by reason code), how many fit their platform, how long a draft takes and what
it costs in tokens. The fact sheets come from the demo's packaged sample data, read into a
scratch SQLite database with the market area's own parsers and fact-sheet builders, so every
generator and every run sees exactly the same facts and the product's database is untouched.

The sample data is historical (2016-2022); its age is no generator's fault, so the staleness
allowance here covers it. Everything else is checked as for the demo brand: its disclosure,
its link allowlist, the default compliance profile, on its sandbox X, LinkedIn and Telegram
accounts (those platforms' length rules; data licences are noted, not enforced, there).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.checks.service import CheckContext, run_checks, verdict
from finagency.config import Settings
from finagency.content import factsheets
from finagency.content.generation import draft_variants
from finagency.content.generators import render
from finagency.content.service import seed_for
from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.core.errors import AppError
from finagency.core.factsheet import FactSheet
from finagency.core.time import utcnow
from finagency.integrations.llm.base import GenerationRequest, GenerationResult, Generator
from finagency.integrations.llm.local import default_model_path, extra_installed
from finagency.integrations.llm.registry import build_generator
from finagency.market import service as market
from finagency.models import Base, GeneratorEvaluation, Instrument
from finagency.queue import JobContext, Task

log = structlog.get_logger(__name__)

EVALUATE_TASK = "content.evaluate_generators"
DEFAULT_ITEMS = 6
MAX_ITEMS = 50
# The demo's accounts: sandboxes with X's, LinkedIn's and Telegram's length rules.
PLATFORMS: tuple[str, ...] = ("sandbox:x", "sandbox:linkedin", "sandbox:telegram")
DISCLOSURE = "Not investment advice. Capital at risk."  # the demo brand's
LINK_ALLOWLIST: tuple[str, ...] = ("sec.gov", "www.sec.gov", "ecb.europa.eu", "treasury.gov")
SAMPLE_AGE_ALLOWANCE = timedelta(days=365 * 100)
HELD = ("review", "block")
SAMPLES_KEPT = 6


@dataclass
class GeneratorReport:
    """What one generator's drafts ran into; shares are of the drafts that were generated."""

    generator: str
    model: str = ""
    items: int = 0
    drafts: int = 0
    failed: int = 0
    grounding_passed: int = 0
    passed: int = 0
    review: int = 0
    blocked: int = 0
    platform_fit_passed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def share(self, count: int) -> float:
        return round(count / self.drafts, 4) if self.drafts else 0.0

    @property
    def avg_latency_ms(self) -> float:
        return round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator,
            "model": self.model,
            "items": self.items,
            "drafts": self.drafts,
            "failed": self.failed,
            "grounding_pass_share": self.share(self.grounding_passed),
            "pass_share": self.share(self.passed),
            "review_share": self.share(self.review),
            "blocked_share": self.share(self.blocked),
            "platform_fit_share": self.share(self.platform_fit_passed),
            "avg_latency_ms": self.avg_latency_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "reasons": dict(self.reasons.most_common()),
            "errors": dict(self.errors.most_common()),
            "samples": self.samples,
        }


# --- the fact sheets -------------------------------------------------------------------


async def demo_factsheets(*, now: datetime, limit: int | None = None) -> list[FactSheet]:
    """Fact sheets from the packaged demo data, kinds interleaved (mover, FX, yields, news,
    filing, ...) so that a few items already cover every kind."""
    with tempfile.TemporaryDirectory(prefix="finagency-eval-") as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'sample.db'}")
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            sessionmaker = create_sessionmaker(engine)
            # Demo sources are packaged files: the client exists for the signature only.
            async with httpx.AsyncClient(transport=_NO_NETWORK) as http:
                async with transaction(sessionmaker) as session:
                    sources = await market.ensure_demo_sources(session)
                for source in sources:
                    async with transaction(sessionmaker) as session:
                        await market.poll_source(session, source, http, now=now)
            async with transaction(sessionmaker) as session:
                groups = await _sheets_by_kind(session, now)
        finally:
            await engine.dispose()
    ordered: list[FactSheet] = []
    while any(groups):
        for group in groups:
            if group:
                ordered.append(group.pop(0))
    return ordered[:limit] if limit is not None else ordered


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("the evaluation reads packaged sample data only", request=request)


_NO_NETWORK = httpx.MockTransport(_refuse)


async def _sheets_by_kind(session: AsyncSession, now: datetime) -> list[list[FactSheet]]:
    movers: list[FactSheet] = []
    for symbol in await session.scalars(
        select(Instrument.symbol).where(Instrument.kind == "equity").order_by(Instrument.symbol)
    ):
        sheet = await factsheets.market_mover(session, symbol, now=now)
        if sheet is not None:
            movers.append(sheet)
    rates = [
        sheet
        for sheet in (
            await factsheets.fx_rates(session, now=now),
            await factsheets.treasury_curve(session, now=now),
        )
        if sheet is not None
    ]
    news: list[FactSheet] = []
    filings: list[FactSheet] = []
    for item in await market.unused_news(session, limit=MAX_ITEMS):
        # The same test as the drafting job: EDGAR entries and form-numbered categories.
        if "edgar" in (item.guid or "") or any(c and c[0].isdigit() for c in item.categories or ()):
            filing = await factsheets.filing_note(session, item, now=now)
            if filing is not None:
                filings.append(filing)
        else:
            news.append(await factsheets.news_take(session, item, now=now))
    return [movers, rates, news, filings]


# --- running and scoring ---------------------------------------------------------------


class _Timed:
    """Wraps a generator to time each generation and keep its result's accounting."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.latencies_ms: list[float] = []
        self.results: list[GenerationResult] = []

    @property
    def name(self) -> str:
        return self.inner.name

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        result = await self.inner.generate(request)
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        self.results.append(result)
        return result


def check_context(sheet: FactSheet, platform: str, now: datetime) -> CheckContext:
    """The demo brand's checks, with the sample data's age allowed (see the module doc)."""
    return CheckContext(
        factsheet=sheet,
        platform=platform,
        now=now,
        required_disclosures=(DISCLOSURE,),
        link_allowlist=LINK_ALLOWLIST,
        staleness=dict.fromkeys(("quote", "macro", "filing"), SAMPLE_AGE_ALLOWANCE),
    )


async def evaluate_generator(
    generator: Generator,
    sheets: Sequence[FactSheet],
    *,
    now: datetime,
    platforms: Sequence[str] = PLATFORMS,
) -> GeneratorReport:
    """Draft every sheet for every platform, one at a time (so latency is the generator's own,
    not time spent waiting for a slot), and check every draft."""
    timed = _Timed(generator)
    report = GeneratorReport(generator=generator.name, items=len(sheets))
    for sheet in sheets:
        seed = seed_for(f"eval:{sheet.kind}:{sheet.subject}")
        for platform in platforms:
            try:
                [(result, variant)] = await draft_variants(
                    timed, sheet, [platform], seed=seed, disclosure=DISCLOSURE
                )
            except AppError as error:
                report.failed += 1
                report.errors[error.code] += 1
                log.warning("evaluation.generation_failed", generator=generator.name, error=error)
                continue
            report.model = report.model or result.model
            found = run_checks(variant.text, check_context(sheet, platform, now))
            _score(report, sheet, platform, variant.text, found)
    report.latencies_ms = timed.latencies_ms
    report.input_tokens = sum(result.input_tokens for result in timed.results)
    report.output_tokens = sum(result.output_tokens for result in timed.results)
    report.cost_usd = sum(result.cost_usd for result in timed.results)
    return report


def _score(
    report: GeneratorReport, sheet: FactSheet, platform: str, text: str, found: Sequence[Any]
) -> None:
    held = [finding for finding in found if finding.severity in HELD]
    outcome = verdict(found)
    report.drafts += 1
    report.passed += outcome == "pass"
    report.review += outcome == "review"
    report.blocked += outcome == "block"
    report.grounding_passed += not any(f.check_id == "grounding" for f in held)
    report.platform_fit_passed += not any(f.check_id == "platform_fit" for f in held)
    codes = sorted({finding.reason_code for finding in held})
    report.reasons.update(codes)
    if len(report.samples) < SAMPLES_KEPT:
        report.samples.append(
            {
                "kind": sheet.kind,
                "subject": sheet.subject[:120],
                "platform": platform,
                "text": text[:600],
                "verdict": outcome,
                "reasons": codes,
            }
        )


async def evaluate(
    generators: Mapping[str, Generator], *, items: int = DEFAULT_ITEMS, now: datetime | None = None
) -> list[GeneratorReport]:
    """One report per generator, all on the same ``items`` sample fact sheets."""
    now = now or utcnow()
    sheets = await demo_factsheets(now=now, limit=max(1, min(items, MAX_ITEMS)))
    reports = []
    for generator in generators.values():
        reports.append(await evaluate_generator(generator, sheets, now=now))
    return reports


# --- which generators, built how --------------------------------------------------------


def local_available(settings: Settings) -> bool:
    """Whether the local generator can run here: the extra and a model file are present."""
    if not extra_installed():
        return False
    path = settings.llm.model_path
    return path.is_file() if path is not None else default_model_path() is not None


def default_generator_names(settings: Settings) -> list[str]:
    """template, local when it can run, and the configured generator."""
    names = ["template"]
    if local_available(settings):
        names.append("local")
    configured = settings.llm.generator.strip().lower()
    if configured not in names:
        names.append(configured)
    return names


def build_for_evaluation(name: str, settings: Settings, http: httpx.AsyncClient) -> Generator:
    """``name`` built from the settings, without the prompt cache (a cached draft would time
    nothing). The endpoint, key and model settings belong to the configured generator only."""
    key = name.strip().lower()
    if key == "template":
        return build_generator("template")
    llm = settings.llm
    own = llm.generator.strip().lower() == key
    return build_generator(
        key,
        http=http,
        render=render,
        base_url=llm.base_url if own else None,
        api_key=llm.api_key.get_secret_value() if own and llm.api_key else None,
        model=llm.model if own else None,
        model_path=llm.model_path,
        concurrency=llm.local_concurrency,
        cache_entries=0,
    )


def close_generator(generator: Generator) -> None:
    close = getattr(generator, "close", None)
    if callable(close):
        close()


# --- storing and reading runs -----------------------------------------------------------


async def store_reports(
    session: AsyncSession, reports: Sequence[GeneratorReport], *, triggered_by: str
) -> str:
    """Keep one row per generator under a new run id; returns the run id."""
    run_id = uuid.uuid4().hex
    for report in reports:
        data = report.to_dict()
        session.add(
            GeneratorEvaluation(
                run_id=run_id,
                triggered_by=triggered_by[:100],
                **{key: value for key, value in data.items() if key != "generator"},
                generator=report.generator,
            )
        )
    await session.flush()
    return run_id


async def latest_evaluations(session: AsyncSession) -> list[GeneratorEvaluation]:
    """The newest stored evaluation of every generator, template first, then by name."""
    newest = select(func.max(GeneratorEvaluation.id)).group_by(GeneratorEvaluation.generator)
    rows = await session.scalars(
        select(GeneratorEvaluation).where(GeneratorEvaluation.id.in_(newest))
    )
    return sorted(rows, key=lambda row: (row.generator != "template", row.generator))


async def run_evaluation(
    settings: Settings, http: httpx.AsyncClient, names: Sequence[str], *, items: int
) -> list[GeneratorReport]:
    """Build the generators named (all of them first, so a missing one fails before any
    work), evaluate them, and release them."""
    built: dict[str, Generator] = {}
    try:
        for name in names:
            built[name] = build_for_evaluation(name, settings, http)
        return await evaluate(built, items=items)
    finally:
        for generator in built.values():
            close_generator(generator)


async def evaluate_task(ctx: JobContext) -> None:
    services = ctx.services
    names = [str(name) for name in ctx.args.get("generators") or ["template"]]
    items = int(ctx.args.get("items") or DEFAULT_ITEMS)
    reports = await run_evaluation(services.settings, services.http, names, items=items)
    triggered_by = str(ctx.args.get("triggered_by") or "job")
    run_id = await store_reports(ctx.session, reports, triggered_by=triggered_by)
    log.info("evaluation.stored", run_id=run_id, generators=[r.generator for r in reports])


TASKS = [
    Task(EVALUATE_TASK, evaluate_task, queue="content", max_attempts=1, timeout_seconds=1800),
]
