"""Generators wired to the fake LLM servers through httpx.ASGITransport (no network)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from finagency.core.factsheet import Fact, FactSheet
from finagency.integrations.llm import GenerationRequest
from finagency.integrations.llm.anthropic_llm import AnthropicGenerator
from finagency.integrations.llm.openai_compat import OpenAICompatibleGenerator

OPENAI_URL = "https://llm.test/v1"
ANTHROPIC_URL = "https://anthropic.test"
TEMPLATE_ID = "prompts/market_mover.test"
STAMP = datetime(2020, 11, 6, 21, 0, tzinfo=UTC)


def mover_sheet(close: float = 116.97) -> FactSheet:
    return FactSheet(
        kind="market_mover",
        subject="AAPL",
        tickers=("AAPL",),
        facts=(
            Fact("AAPL.close", "price", close, "USD", "USD", STAMP, "Yahoo Finance", label="close"),
            Fact("AAPL.change_pct", "percent", 0.5, "%", None, STAMP, "Yahoo Finance"),
        ),
    )


def request_for(
    sheet: FactSheet | None = None, *, seed: int = 7, platform: str = "x"
) -> GenerationRequest:
    return GenerationRequest(factsheet=sheet or mover_sheet(), platform=platform, seed=seed)


def render(request: GenerationRequest) -> tuple[str, str, str, str]:
    """A stand-in for the content layer's prompt rendering."""
    system = f"You write {request.platform} posts. Use only the facts given."
    user = "Facts:\n" + json.dumps(request.factsheet.to_dict(), sort_keys=True)
    return system, user, TEMPLATE_ID, hashlib.sha256(TEMPLATE_ID.encode()).hexdigest()


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


def openai_generator(
    app: Starlette, *, api_key: str = "sk-test", model: str = "gpt-4o-mini", timeout: float = 5.0
) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(
        http=client_for(app),
        render=render,
        base_url=OPENAI_URL,
        api_key=api_key,
        model=model,
        timeout_seconds=timeout,
    )


def anthropic_generator(
    app: Starlette,
    *,
    api_key: str = "sk-ant-test",
    model: str = "claude-3-5-haiku-20241022",
    timeout: float = 5.0,
) -> AnthropicGenerator:
    return AnthropicGenerator(
        http=client_for(app),
        render=render,
        base_url=ANTHROPIC_URL,
        api_key=api_key,
        model=model,
        timeout_seconds=timeout,
    )
