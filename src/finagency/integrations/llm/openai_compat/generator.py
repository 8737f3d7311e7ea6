"""Draft posts with any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, LM Studio).

One ``chat.completions.create`` call per draft with a system and a user message, both from
the injected ``render``. The SDK never retries (``max_retries=0``): the job queue owns
retries and reads the typed errors from ``errors``. A refusal (``message.refusal``) or a
``content_filter`` finish is a ``PermanentExternalError``: asking again will not help.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from finagency.core.errors import PermanentExternalError, TransientExternalError
from finagency.integrations.llm.base import GenerationRequest, GenerationResult
from finagency.integrations.llm.cache import PromptRenderer, prompt_cache_key
from finagency.integrations.llm.openai_compat.errors import map_openai_error
from finagency.integrations.llm.openai_compat.pricing import OPENAI_PRICES, ModelPrices, cost_usd

DEFAULT_TEMPERATURE = 0.3  # low: finance copy should restate facts, not improvise
DEFAULT_TIMEOUT_SECONDS = 60.0


class OpenAICompatibleGenerator:
    """A ``Generator`` backed by ``model`` at ``base_url``, over the injected ``http`` client."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        render: PromptRenderer,
        base_url: str,
        api_key: str,
        model: str,
        temperature: float = DEFAULT_TEMPERATURE,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_output_tokens: int | None = None,
        prices: ModelPrices | None = None,
    ) -> None:
        self.model = model
        self.temperature = temperature
        self.timeout_seconds = timeout_seconds
        self.max_output_tokens = max_output_tokens
        self.prices: ModelPrices = OPENAI_PRICES if prices is None else prices
        self._render = render
        self._service = urlsplit(base_url).netloc or base_url
        # The SDK accepts an httpx.AsyncClient at run time; its stubs name httpx2's class.
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            http_client=cast(Any, http),
            max_retries=0,
            timeout=timeout_seconds,
        )

    @property
    def name(self) -> str:
        return "openai"

    def cache_key(self, request: GenerationRequest) -> str:
        system, user, _, _ = self._render(request)
        return prompt_cache_key(self.name, self.model, system, user, request.seed)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        system, user, template_id, template_hash = self._render(request)
        completion = await self._complete(system, user, request.seed)
        if not completion.choices:
            raise PermanentExternalError(
                f"{self._service} returned no choices", details=self._details()
            )
        choice = completion.choices[0]
        if choice.message.refusal:
            raise PermanentExternalError(
                f"the model refused to write this post: {choice.message.refusal}",
                details={**self._details(), "reason": "refusal"},
            )
        if choice.finish_reason == "content_filter":
            raise PermanentExternalError(
                "the provider's content filter blocked this post",
                details={**self._details(), "reason": "content_filter"},
            )
        raw = choice.message.content or ""
        if not raw.strip():
            raise PermanentExternalError(
                f"{self._service} returned an empty draft", details=self._details()
            )
        model = completion.model or self.model
        usage = completion.usage
        input_tokens = usage.prompt_tokens if usage else 0
        output_tokens = usage.completion_tokens if usage else 0
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

    async def _complete(self, system: str, user: str, seed: int) -> ChatCompletion:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        try:
            # The SDK's timeout bounds each network phase; this bounds the whole call.
            async with asyncio.timeout(self.timeout_seconds):
                return await self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    temperature=self.temperature,
                    seed=seed,
                    max_tokens=openai.omit
                    if self.max_output_tokens is None
                    else self.max_output_tokens,
                )
        except TimeoutError as exc:
            raise TransientExternalError(
                f"{self._service} timed out after {self.timeout_seconds:g}s",
                details=self._details(),
            ) from exc
        except openai.OpenAIError as exc:
            raise map_openai_error(exc, service=self._service, model=self.model) from exc

    def _details(self) -> dict[str, Any]:
        return {"service": self._service, "model": self.model}
