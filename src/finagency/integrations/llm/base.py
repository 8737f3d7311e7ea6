"""What every text generator takes and returns: GenerationRequest, GenerationResult, Generator.

Generators report failures with ``finagency.core.errors``: ``ValidationFailed`` when the fact
sheet lacks what the content kind needs (see ``factkeys``), ``TransientExternalError`` /
``RateLimitedExternalError`` / ``PermanentExternalError`` for model-service failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from finagency.core.factsheet import FactSheet


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Draft one post about ``factsheet`` for ``platform``.

    ``max_chars`` is the budget as the platform counts (``textrules``); None means the
    platform's own limit. The same request and seed always yield the same text from a
    deterministic generator.
    """

    factsheet: FactSheet
    platform: str
    seed: int
    brand_voice: str = ""
    max_chars: int | None = None


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """A draft plus the provenance the audit trail keeps (model, template, raw output, cost)."""

    text: str
    model: str
    prompt_template_id: str  # "template/market_mover/v1#2", "prompts/news_take.v1"
    prompt_hash: str  # sha256 hex of the template or rendered prompt
    raw_output: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool = False


class Generator(Protocol):
    """Anything that turns a fact sheet into post text."""

    @property
    def name(self) -> str: ...

    async def generate(self, request: GenerationRequest) -> GenerationResult: ...
