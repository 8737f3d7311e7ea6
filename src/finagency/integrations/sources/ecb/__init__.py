"""European Central Bank euro reference rates."""

from finagency.integrations.sources.ecb.parser import parse_eurofxref

__all__ = ["parse_eurofxref"]
