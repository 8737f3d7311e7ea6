"""The offline template generator (the default): deterministic, grounded, varied phrasing."""

from finagency.integrations.llm.template.generator import MODEL, TemplateGenerator

__all__ = ["MODEL", "TemplateGenerator"]
