"""SEC EDGAR: filings feeds, submissions, ticker maps and XBRL facts."""

from finagency.integrations.sources.edgar.client import EdgarClient
from finagency.integrations.sources.edgar.parser import (
    filing_document_url,
    latest_facts,
    parse_company_concept,
    parse_company_facts,
    parse_company_tickers_exchange,
    parse_filings_atom,
    parse_submissions,
)
from finagency.integrations.sources.edgar.types import CompanyListing, XbrlFact

__all__ = [
    "CompanyListing",
    "EdgarClient",
    "XbrlFact",
    "filing_document_url",
    "latest_facts",
    "parse_company_concept",
    "parse_company_facts",
    "parse_company_tickers_exchange",
    "parse_filings_atom",
    "parse_submissions",
]
