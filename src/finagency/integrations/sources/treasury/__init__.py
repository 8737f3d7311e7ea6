"""US Treasury daily par yield curve."""

from finagency.integrations.sources.treasury.parser import parse_yield_curve

__all__ = ["parse_yield_curve"]
