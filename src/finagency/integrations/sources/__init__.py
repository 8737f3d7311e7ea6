"""Market data and news sources: fetching, parsing and typed values, no database access."""

from finagency.integrations.sources.ecb import parse_eurofxref
from finagency.integrations.sources.edgar import (
    CompanyListing,
    EdgarClient,
    XbrlFact,
    filing_document_url,
    latest_facts,
    parse_company_concept,
    parse_company_facts,
    parse_company_tickers_exchange,
    parse_filings_atom,
    parse_submissions,
)
from finagency.integrations.sources.errors import MalformedFeedError, MalformedPayloadError
from finagency.integrations.sources.fetch import fetch, parse_retry_after
from finagency.integrations.sources.limiter import IntervalLimiter
from finagency.integrations.sources.rss import parse_feed, strip_html
from finagency.integrations.sources.tickers import extract_tickers
from finagency.integrations.sources.treasury import parse_yield_curve
from finagency.integrations.sources.types import FetchResult, NewsEntry, PricePoint, RatePoint
from finagency.integrations.sources.yahoo import parse_chart

__all__ = [
    "CompanyListing",
    "EdgarClient",
    "FetchResult",
    "IntervalLimiter",
    "MalformedFeedError",
    "MalformedPayloadError",
    "NewsEntry",
    "PricePoint",
    "RatePoint",
    "XbrlFact",
    "extract_tickers",
    "fetch",
    "filing_document_url",
    "latest_facts",
    "parse_chart",
    "parse_company_concept",
    "parse_company_facts",
    "parse_company_tickers_exchange",
    "parse_eurofxref",
    "parse_feed",
    "parse_filings_atom",
    "parse_retry_after",
    "parse_submissions",
    "parse_yield_curve",
    "strip_html",
]
