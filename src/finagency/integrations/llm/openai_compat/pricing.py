"""What OpenAI models cost, in USD per million tokens, and the cost of one call.

List prices at the time of writing; deployments override them with the ``prices`` setting.
A model that is not in the table (Ollama, vLLM, LM Studio and other local models) costs 0.
Dated snapshots ("gpt-4o-2024-08-06") use the price of their longest listed prefix.
"""

from __future__ import annotations

from collections.abc import Mapping

ModelPrices = Mapping[str, tuple[float, float]]
"""model → (input USD per 1M tokens, output USD per 1M tokens)."""

OPENAI_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def price_of(model: str, prices: ModelPrices) -> tuple[float, float]:
    """The (input, output) price of ``model``: exact name, else longest prefix, else free."""
    if model in prices:
        return prices[model]
    prefixes = [name for name in prices if model.startswith(f"{name}-")]
    return prices[max(prefixes, key=len)] if prefixes else (0.0, 0.0)


def cost_usd(model: str, input_tokens: int, output_tokens: int, prices: ModelPrices) -> float:
    per_input, per_output = price_of(model, prices)
    return (input_tokens * per_input + output_tokens * per_output) / 1_000_000
