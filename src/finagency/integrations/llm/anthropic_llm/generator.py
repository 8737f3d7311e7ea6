"""Draft posts with Anthropic's Messages API through the official SDK.

One ``messages.create`` call per draft: the rendered system prompt as ``system`` and the
rendered user prompt as the only message. The SDK never retries (``max_retries=0``); the
job queue does, from the typed errors in ``errors``. ``stop_reason == "refusal"`` is a
``PermanentExternalError``. The Messages API has no seed: the seed only keys the cache.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import anthropic
import httpx
from anthropic.types import Message

from finagency.core.errors import PermanentExternalError, TransientExternalError
from finagency.integrations.llm.anthropic_llm.errors import map_anthropic_error
from finagency.integrations.llm.anthropic_llm.pricing import ANTHROPIC_PRICES
from finagency.integrations.llm.anthropic_llm.transport import bridged_client
from finagency.integrations.llm.base import GenerationRequest, GenerationResult
from finagency.integrations.llm.cache import PromptRenderer, prompt_cache_key
from finagency.integrations.llm.openai_compat.pricing import ModelPrices, cost_usd

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_OUTPUT_TOKENS = 1024  # required by the API; a LinkedIn post fits in well under
DEFAULT_TIMEOUT_SECONDS = 60.0


class AnthropicGenerator:
    """A ``Generator`` backed by an Anthropic ``model``, over the injected ``http`` client."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        render: PromptRenderer,
        api_key: str,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
        prices: ModelPrices | None = None,
    ) -> None:
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.max_output_tokens = max_output_tokens
        self.prices: ModelPrices = ANTHROPIC_PRICES if prices is None else prices
        self._render = render
        self._service = urlsplit(base_url).netloc or base_url
        self._client = anthropic.AsyncAnthropic(
            base_url=base_url,
            api_key=api_key,
            http_client=bridged_client(http),
            max_retries=0,
            timeout=timeout_seconds,
        )

    @property
    def name(self) -> str:
        return "anthropic"

    def cache_key(self, request: GenerationRequest) -> str:
        system, user, _, _ = self._render(request)
        return prompt_cache_key(self.name, self.model, system, user, request.seed)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        system, user, template_id, template_hash = self._render(request)
        message = await self._create(system, user)
        if message.stop_reason == "refusal":
            raise PermanentExternalError(
                "the model refused to write this post",
                details={**self._details(), "reason": "refusal"},
            )
        raw = "".join(block.text for block in message.content if block.type == "text")
        if not raw.strip():
            raise PermanentExternalError(
                f"{self._service} returned an empty draft", details=self._details()
            )
        model = message.model or self.model
        input_tokens = message.usage.input_tokens
        output_tokens = message.usage.output_tokens
        return GenerationResult(
            text=raw.strip(),
            model=model,
            prompt_template_id=template_id,
            prompt_hash=template_hash,
            raw_output=raw,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd(model, input_tokens, output_tokens, self.prices)
            or cost_usd(self.model, input_tokens, output_tokens, self.prices),
        )

    async def _create(self, system: str, user: str) -> Message:
        try:
            # The SDK's timeout bounds each network phase; this bounds the whole call.
            async with asyncio.timeout(self.timeout_seconds):
                return await self._client.messages.create(
                    model=self.model,
                    max_tokens=self.max_output_tokens,
                    system=system,
                    messages=[{"role": "user", "content": user}],
                )
        except TimeoutError as exc:
            raise TransientExternalError(
                f"{self._service} timed out after {self.timeout_seconds:g}s",
                details=self._details(),
            ) from exc
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc, service=self._service, model=self.model) from exc

    def _details(self) -> dict[str, Any]:
        return {"service": self._service, "model": self.model}
