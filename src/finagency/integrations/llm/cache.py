"""The prompt cache: identical prompts to the same model are answered once, then from memory.

``CachedGenerator`` wraps any ``Generator``. Generators that build a prompt (the LLM back
ends) say what makes two requests identical through ``cache_key`` (sha256 of generator,
model, system prompt, user prompt and seed, see ``prompt_cache_key``); for others the key is
the request itself. A hit returns the stored result with ``cached=True`` and no tokens or
cost, since nothing was spent. Failures are never cached. The cache is per process and
bounded (least recently used entries are dropped first).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, runtime_checkable

from finagency.integrations.llm.base import GenerationRequest, GenerationResult, Generator

PromptRenderer = Callable[[GenerationRequest], tuple[str, str, str, str]]
"""Turns a request into (system, user, template_id, template_sha256); injected by the caller
(the content layer owns the prompt files, which integrations may not import)."""

DEFAULT_MAX_ENTRIES = 256


def prompt_cache_key(generator: str, model: str, system: str, user: str, seed: int) -> str:
    """sha256 of everything that decides what a model is asked."""
    material = json.dumps([generator, model, system, user, seed], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


@runtime_checkable
class PromptKeyed(Protocol):
    """A generator that can say which requests would send it the same prompt."""

    def cache_key(self, request: GenerationRequest) -> str: ...


def request_cache_key(generator: str, request: GenerationRequest) -> str:
    """A key for generators without prompts: the whole request, serialised."""
    material = json.dumps(
        [
            generator,
            request.factsheet.to_dict(),
            request.platform,
            request.seed,
            request.brand_voice,
            request.max_chars,
        ],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()


class CachedGenerator:
    """``inner`` behind an in-memory LRU cache of at most ``max_entries`` results."""

    def __init__(self, inner: Generator, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.inner = inner
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, GenerationResult] = OrderedDict()

    @property
    def name(self) -> str:
        return self.inner.name

    def __len__(self) -> int:
        return len(self._entries)

    def key_for(self, request: GenerationRequest) -> str:
        if isinstance(self.inner, PromptKeyed):
            return self.inner.cache_key(request)
        return request_cache_key(self.inner.name, request)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        key = self.key_for(request)
        stored = self._entries.get(key)
        if stored is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return replace(stored, cached=True, input_tokens=0, output_tokens=0, cost_usd=0.0)
        self.misses += 1
        result = await self.inner.generate(request)
        self._entries[key] = result
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        self._entries.clear()
