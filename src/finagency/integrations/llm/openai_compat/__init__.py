"""The ``openai`` generator: any OpenAI-compatible chat endpoint through the official SDK."""

from finagency.integrations.llm.openai_compat.errors import map_openai_error
from finagency.integrations.llm.openai_compat.generator import OpenAICompatibleGenerator
from finagency.integrations.llm.openai_compat.pricing import OPENAI_PRICES, cost_usd, price_of

__all__ = ["OPENAI_PRICES", "OpenAICompatibleGenerator", "cost_usd", "map_openai_error", "price_of"]
