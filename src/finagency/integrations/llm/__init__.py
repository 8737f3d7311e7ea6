"""Text generators: the request/result types, the fact-key convention and the generator registry."""

from finagency.integrations.llm.base import GenerationRequest, GenerationResult, Generator
from finagency.integrations.llm.registry import (
    AVAILABLE_GENERATORS,
    GeneratorNotConfiguredError,
    UnknownGeneratorError,
    build_generator,
)
from finagency.integrations.llm.template import TemplateGenerator

__all__ = [
    "AVAILABLE_GENERATORS",
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "GeneratorNotConfiguredError",
    "TemplateGenerator",
    "UnknownGeneratorError",
    "build_generator",
]
