"""Parse SEC EDGAR payloads: filings Atom feeds, submissions, ticker maps and XBRL facts."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from finagency.integrations.sources._payload import (
    as_date,
    as_float,
    as_list,
    field,
    load_json,
    mapping,
    midnight_utc,
)
from finagency.integrations.sources.edgar.types import CompanyListing, XbrlFact
from finagency.integrations.sources.errors import MalformedPayloadError
from finagency.integrations.sources.rss.parser import parse_feed
from finagency.integrations.sources.types import NewsEntry

SOURCE = "sec-edgar"
WWW_BASE_URL = "https://www.sec.gov"
_ACCESSION_URN = "urn:tag:sec.gov,2008:accession-number="


def filing_document_url(
    cik: int, accession: str, document: str, *, base_url: str = WWW_BASE_URL
) -> str:
    """``…/Archives/edgar/data/{cik}/{accession without dashes}/{document}``; the filing
    index page when ``document`` is empty."""
    folder = f"{base_url.rstrip('/')}/Archives/edgar/data/{cik}/{accession.replace('-', '')}"
    return f"{folder}/{document}" if document else f"{folder}/{accession}-index.htm"


def parse_filings_atom(body: bytes, *, source: str = SOURCE) -> list[NewsEntry]:
    """Entries of a ``browse-edgar?action=getcompany|getcurrent&output=atom`` feed.

    Titles read like "8-K - Current report"; the form type is the first category.
    """
    return parse_feed(body, source=source)


def _recent_rows(recent: Mapping[str, Any]) -> list[dict[str, Any]]:
    columns = {
        key: as_list(value, what=f"submissions recent.{key}") for key, value in recent.items()
    }
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise MalformedPayloadError("submissions: filings.recent arrays differ in length")
    count = lengths.pop() if lengths else 0
    return [{key: values[i] for key, values in columns.items()} for i in range(count)]


def _accepted_at(row: Mapping[str, Any]) -> datetime | None:
    accepted = row.get("acceptanceDateTime")
    if isinstance(accepted, str) and accepted:
        try:
            return datetime.fromisoformat(accepted.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    filed = row.get("filingDate")
    return midnight_utc(as_date(filed, what="submissions filingDate")) if filed else None


def parse_submissions(
    body: bytes | str,
    *,
    forms: Collection[str] = (),
    source: str = SOURCE,
    www_base_url: str = WWW_BASE_URL,
) -> list[NewsEntry]:
    """Recent filings from ``data.sec.gov/submissions/CIK##########.json``, newest first.

    ``forms`` keeps only those form types (e.g. {"8-K", "10-K"}); empty keeps all.
    """
    doc = mapping(load_json(body, what="submissions"), what="submissions")
    try:
        cik = int(field(doc, "cik", what="submissions"))
    except (TypeError, ValueError):
        raise MalformedPayloadError("submissions: cik is not a number") from None
    name = str(doc.get("name") or f"CIK {cik}")
    tickers = tuple(str(t) for t in doc.get("tickers") or () if t)
    filings = mapping(field(doc, "filings", what="submissions"), what="submissions filings")
    recent = mapping(field(filings, "recent", what="submissions filings"), what="recent")
    entries: list[NewsEntry] = []
    for row in _recent_rows(recent):
        form = str(field(row, "form", what="submissions recent"))
        if forms and form not in forms:
            continue
        accession = str(field(row, "accessionNumber", what="submissions recent"))
        description = str(row.get("primaryDocDescription") or "").strip()
        title = f"{form} - {name}"
        if description and description.upper() != form.upper():
            title = f"{title}: {description}"
        filed = str(row.get("filingDate") or "")
        summary = f"Filed {filed}; accession {accession}"
        if row.get("reportDate"):
            summary += f"; period {row['reportDate']}"
        entries.append(
            NewsEntry(
                guid=f"{_ACCESSION_URN}{accession}",
                url=filing_document_url(
                    cik, accession, str(row.get("primaryDocument") or ""), base_url=www_base_url
                ),
                title=title,
                summary=summary,
                published_at=_accepted_at(row),
                source=source,
                tickers=tickers,
                categories=(form,),
            )
        )
    return entries


def parse_company_tickers_exchange(body: bytes | str) -> dict[str, CompanyListing]:
    """Ticker → listing from ``company_tickers_exchange.json`` (first row wins on repeats)."""
    what = "company_tickers_exchange"
    doc = mapping(load_json(body, what=what), what=what)
    fields = [str(f) for f in as_list(field(doc, "fields", what=what), what=f"{what} fields")]
    try:
        index = {name: fields.index(name) for name in ("cik", "name", "ticker", "exchange")}
    except ValueError:
        raise MalformedPayloadError(
            f"{what}: fields are {fields}, expected cik/name/ticker/exchange"
        ) from None
    listings: dict[str, CompanyListing] = {}
    for row in as_list(field(doc, "data", what=what), what=f"{what} data"):
        cells = as_list(row, what=f"{what} row")
        if len(cells) < len(fields):
            raise MalformedPayloadError(f"{what}: short row {cells!r}")
        ticker = str(cells[index["ticker"]] or "").upper()
        if not ticker or ticker in listings:
            continue
        exchange = cells[index["exchange"]]
        listings[ticker] = CompanyListing(
            cik=int(as_float(cells[index["cik"]], what=f"{what} cik")),
            name=str(cells[index["name"]]),
            ticker=ticker,
            exchange=str(exchange) if exchange else None,
        )
    return listings


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _facts_of_tag(taxonomy: str, tag: str, concept: Mapping[str, Any]) -> list[XbrlFact]:
    what = f"XBRL {taxonomy}:{tag}"
    units = mapping(field(concept, "units", what=what), what=f"{what} units")
    facts: list[XbrlFact] = []
    for unit, rows in units.items():
        for raw in as_list(rows, what=f"{what} {unit}"):
            row = mapping(raw, what=f"{what} {unit} fact")
            start = row.get("start")
            facts.append(
                XbrlFact(
                    taxonomy=taxonomy,
                    tag=tag,
                    unit=unit,
                    value=as_float(field(row, "val", what=what), what=f"{what} val"),
                    start=as_date(start, what=f"{what} start") if start else None,
                    end=as_date(field(row, "end", what=what), what=f"{what} end"),
                    form=str(row.get("form") or ""),
                    filed=as_date(field(row, "filed", what=what), what=f"{what} filed"),
                    accession=str(row.get("accn") or ""),
                    fiscal_year=_optional_int(row.get("fy")),
                    fiscal_period=str(row["fp"]) if row.get("fp") else None,
                    frame=str(row["frame"]) if row.get("frame") else None,
                )
            )
    return facts


def parse_company_concept(body: bytes | str) -> list[XbrlFact]:
    """Facts of one concept from ``api/xbrl/companyconcept/CIK…/{taxonomy}/{tag}.json``."""
    doc = mapping(load_json(body, what="companyconcept"), what="companyconcept")
    taxonomy = str(field(doc, "taxonomy", what="companyconcept"))
    tag = str(field(doc, "tag", what="companyconcept"))
    return _facts_of_tag(taxonomy, tag, doc)


def parse_company_facts(body: bytes | str, *, tags: Collection[str] = ()) -> list[XbrlFact]:
    """Facts from ``api/xbrl/companyfacts/CIK….json``; ``tags`` limits to those concepts."""
    doc = mapping(load_json(body, what="companyfacts"), what="companyfacts")
    taxonomies = mapping(field(doc, "facts", what="companyfacts"), what="companyfacts facts")
    facts: list[XbrlFact] = []
    for taxonomy, concepts in taxonomies.items():
        for tag, concept in mapping(concepts, what=f"companyfacts {taxonomy}").items():
            if tags and tag not in tags:
                continue
            facts.extend(_facts_of_tag(taxonomy, tag, mapping(concept, what=tag)))
    return facts


def latest_facts(facts: Collection[XbrlFact]) -> list[XbrlFact]:
    """One fact per (tag, unit, period): the latest filed, since later filings restate."""
    best: dict[tuple[str, str, str, Any, Any], XbrlFact] = {}
    for fact in facts:
        key = (fact.taxonomy, fact.tag, fact.unit, fact.start, fact.end)
        current = best.get(key)
        if current is None or fact.filed > current.filed:
            best[key] = fact
    return sorted(best.values(), key=lambda f: (f.tag, f.unit, f.end, f.start or f.end))
