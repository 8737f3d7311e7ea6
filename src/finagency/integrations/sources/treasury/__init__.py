"""US Treasury daily par yield curve."""

from finagency.integrations.sources.treasury.csv_parser import parse_yield_curve_csv
from finagency.integrations.sources.treasury.parser import parse_yield_curve

__all__ = ["parse_yield_curve", "parse_yield_curve_csv"]
