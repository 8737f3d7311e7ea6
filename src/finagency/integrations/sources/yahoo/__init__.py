"""Yahoo Finance chart API (unofficial; development fallback only)."""

from finagency.integrations.sources.yahoo.parser import parse_chart

__all__ = ["parse_chart"]
