"""The ``anthropic`` generator: Anthropic's Messages API through the official SDK."""

from finagency.integrations.llm.anthropic_llm.errors import map_anthropic_error
from finagency.integrations.llm.anthropic_llm.generator import AnthropicGenerator
from finagency.integrations.llm.anthropic_llm.pricing import ANTHROPIC_PRICES

__all__ = ["ANTHROPIC_PRICES", "AnthropicGenerator", "map_anthropic_error"]
