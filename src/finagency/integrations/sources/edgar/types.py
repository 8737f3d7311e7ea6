"""Values specific to SEC EDGAR: ticker listings and XBRL facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class CompanyListing:
    """One row of ``company_tickers_exchange.json``; ``exchange`` is None when unlisted."""

    cik: int
    name: str
    ticker: str
    exchange: str | None


@dataclass(frozen=True, slots=True)
class XbrlFact:
    """One reported value of an XBRL concept, as filed (restatements appear as new facts)."""

    taxonomy: str
    tag: str
    unit: str
    value: float
    start: date | None
    end: date
    form: str
    filed: date
    accession: str
    fiscal_year: int | None
    fiscal_period: str | None
    frame: str | None
