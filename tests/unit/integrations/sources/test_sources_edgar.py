"""EDGAR parsers against the real SEC files, and the client's headers, URLs and pacing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest

from finagency.core.errors import AuthExpiredError
from finagency.integrations.sources import (
    EdgarClient,
    IntervalLimiter,
    MalformedPayloadError,
    filing_document_url,
    latest_facts,
    parse_company_concept,
    parse_company_facts,
    parse_company_tickers_exchange,
    parse_filings_atom,
    parse_submissions,
)

UA = "Finagency Tests tests@finagency.example"
SUBMISSIONS = "sec-edgar-submissions-CIK0000320193-apple.json"
CONCEPT = "sec-edgar-companyconcept-CIK0000320193-dei-EntityCommonStockSharesOutstanding.json"
FACTS = "sec-edgar-companyfacts-CIK0000320193-apple.SUBSET.json"
TICKERS = "sec-edgar-company_tickers_exchange.json"
ATOM = "sec-edgar-browse-getcompany-CIK0001844419.atom.xml"


def test_filings_atom(real_bytes: Callable[[str], bytes]) -> None:
    entries = parse_filings_atom(real_bytes(ATOM))
    assert len(entries) == 5
    first = entries[0]
    assert first.title == (
        "S-1/A [Amend] - General form for registration of securities under the "
        "Securities Act of 1933"
    )
    assert first.categories[0] == "S-1/A"
    assert first.guid.endswith("accession-number=0001104659-21-057704")
    assert first.url.endswith("/000110465921057704/0001104659-21-057704-index.htm")
    assert first.summary.startswith("Filed: 2021-04-29 AccNo: 0001104659-21-057704")
    assert [e.categories[0] for e in entries][-1] == "S-1"
    # <updated>2021-02-16T17:25:34-05:00</updated>
    assert entries[-1].published_at == datetime(2021, 2, 16, 22, 25, 34, tzinfo=UTC)


def test_submissions_recent_filings(real_bytes: Callable[[str], bytes]) -> None:
    entries = parse_submissions(real_bytes(SUBMISSIONS))
    assert len(entries) == 1001
    first = entries[0]
    assert first.categories == ("PX14A6G",)
    assert first.title == "PX14A6G - Apple Inc.: NATIONAL LEGAL AND POLICY CENTER - PX14A6G"
    assert first.url == (
        "https://www.sec.gov/Archives/edgar/data/320193/000109690625000100/nlpc_px14a6g.htm"
    )
    assert first.guid == "urn:tag:sec.gov,2008:accession-number=0001096906-25-000100"
    assert first.published_at == datetime(2025, 1, 29, 12, 24, 33, tzinfo=UTC)
    assert first.tickers == ("AAPL",)
    assert "0001096906-25-000100" in first.summary


def test_submissions_filtered_by_form(real_bytes: Callable[[str], bytes]) -> None:
    annual = parse_submissions(real_bytes(SUBMISSIONS), forms={"10-K"})
    assert annual
    assert all(e.categories == ("10-K",) for e in annual)
    latest = annual[0]
    assert latest.url.startswith("https://www.sec.gov/Archives/edgar/data/320193/")
    assert latest.url.endswith(".htm")


def test_submissions_guid_matches_the_atom_feed_scheme(real_bytes: Callable[[str], bytes]) -> None:
    # The same filing seen through both routes must dedupe by guid.
    atom_guid = parse_filings_atom(real_bytes(ATOM))[0].guid
    sub_guid = parse_submissions(real_bytes(SUBMISSIONS))[0].guid
    assert atom_guid.rsplit("=", 1)[0] == sub_guid.rsplit("=", 1)[0]


def test_filing_document_url_without_primary_document() -> None:
    assert filing_document_url(320193, "0000320193-24-000123", "") == (
        "https://www.sec.gov/Archives/edgar/data/320193/000032019324000123/"
        "0000320193-24-000123-index.htm"
    )


def test_company_tickers_exchange(real_bytes: Callable[[str], bytes]) -> None:
    listings = parse_company_tickers_exchange(real_bytes(TICKERS))
    assert len(listings) > 9000
    apple = listings["AAPL"]
    assert (apple.cik, apple.name, apple.exchange) == (320193, "Apple Inc.", "Nasdaq")
    assert listings["BRK-B"].exchange == "NYSE"
    assert listings["VG"].exchange is None


def test_company_concept_shares_outstanding(real_bytes: Callable[[str], bytes]) -> None:
    facts = parse_company_concept(real_bytes(CONCEPT))
    assert len(facts) == 63
    last = facts[-1]
    assert (last.taxonomy, last.tag, last.unit) == (
        "dei",
        "EntityCommonStockSharesOutstanding",
        "shares",
    )
    assert last.value == 15_115_823_000
    assert last.end == date(2024, 10, 18)
    assert last.filed == date(2024, 11, 1)
    assert last.form == "10-K"
    assert last.start is None
    assert last.frame == "CY2024Q3I"


def test_company_facts_revenue(real_bytes: Callable[[str], bytes]) -> None:
    tag = "RevenueFromContractWithCustomerExcludingAssessedTax"
    facts = parse_company_facts(real_bytes(FACTS), tags={tag})
    assert facts
    assert {f.tag for f in facts} == {tag}
    fy2024 = [f for f in facts if f.frame == "CY2024"]
    assert [(f.value, f.start, f.end) for f in fy2024] == [
        (391_035_000_000, date(2023, 10, 1), date(2024, 9, 28))
    ]
    everything = parse_company_facts(real_bytes(FACTS))
    assert {f.tag for f in everything} >= {"EntityCommonStockSharesOutstanding", "Assets"}


def test_latest_facts_keeps_the_last_filed_restatement(real_bytes: Callable[[str], bytes]) -> None:
    facts = parse_company_concept(real_bytes(CONCEPT))
    latest = latest_facts(facts)
    period = [f for f in latest if f.end == date(2009, 10, 16)]
    # Reported in the 10-K (2009-10-27) and again in the 10-K/A (2010-01-25).
    assert [(f.form, f.filed) for f in period] == [("10-K/A", date(2010, 1, 25))]
    assert len(latest) < len(facts)


@pytest.mark.parametrize(
    ("parse", "body", "message"),
    [
        (parse_submissions, b"", "empty body"),
        (parse_submissions, b"<html>rate limited</html>", "not valid JSON"),
        (parse_submissions, b'{"cik": "320193"}', "missing field 'filings'"),
        (
            parse_submissions,
            b'{"cik":"1","filings":{"recent":{"form":["8-K"],"accessionNumber":[]}}}',
            "differ in length",
        ),
        (parse_company_tickers_exchange, b'{"fields": ["a"], "data": []}', "expected cik"),
        (
            parse_company_concept,
            b'{"taxonomy": "dei", "tag": "X", "units": []}',
            "expected an object",
        ),
        (
            parse_company_facts,
            b'{"facts": {"dei": {"X": {"units": {"USD": [{"val": "n/a"}]}}}}}',
            "number",
        ),
    ],
)
def test_malformed_payloads_raise_clear_errors(
    parse: Callable[[bytes], object], body: bytes, message: str
) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse(body)


def test_client_requires_a_declared_user_agent() -> None:
    with pytest.raises(ValueError, match="declared User-Agent"):
        EdgarClient(httpx.AsyncClient(), user_agent="python-httpx/0.28")
    with pytest.raises(ValueError, match="declared User-Agent"):
        EdgarClient(httpx.AsyncClient(), user_agent="")


async def test_client_sends_declared_headers_to_configured_bases(
    real_bytes: Callable[[str], bytes],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/submissions/CIK0000320193.json":
            return httpx.Response(200, content=real_bytes(SUBMISSIONS))
        if request.url.path.endswith("/dei/EntityCommonStockSharesOutstanding.json"):
            return httpx.Response(200, content=real_bytes(CONCEPT))
        if request.url.path == "/cgi-bin/browse-edgar":
            return httpx.Response(200, content=real_bytes(ATOM))
        return httpx.Response(404)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        edgar = EdgarClient(
            http,
            user_agent=UA,
            data_base_url="http://data.fake/",
            www_base_url="http://www.fake",
        )
        filings = await edgar.submissions(320193, forms={"8-K"})
        shares = await edgar.company_concept(
            "CIK320193", "EntityCommonStockSharesOutstanding", taxonomy="dei"
        )
        feed = await edgar.company_filings(1844419, form_type="S-1")
    assert filings[0].url.startswith("http://www.fake/Archives/edgar/data/320193/")
    assert shares[-1].value == 15_115_823_000
    assert len(feed) == 5
    assert [r.url.host for r in seen] == ["data.fake", "data.fake", "www.fake"]
    assert all(r.headers["user-agent"] == UA for r in seen)
    assert seen[2].url.params["CIK"] == "0001844419"
    assert seen[2].url.params["output"] == "atom"


async def test_client_maps_403_to_auth_error() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(403))
    ) as http:
        edgar = EdgarClient(http, user_agent=UA)
        with pytest.raises(AuthExpiredError, match="User-Agent"):
            await edgar.company_tickers()


async def test_client_paces_requests_to_ten_per_second() -> None:
    now = [100.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = IntervalLimiter(10, clock=lambda: now[0], sleep=fake_sleep)
    body = json.dumps({"fields": ["cik", "name", "ticker", "exchange"], "data": []}).encode()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    ) as http:
        edgar = EdgarClient(http, user_agent=UA, limiter=limiter)
        for _ in range(21):
            await edgar.company_tickers()
    # 21 requests at 10/s take at least 2 seconds of waiting.
    assert sum(sleeps) == pytest.approx(2.0)
    assert len(sleeps) == 20


def test_client_refuses_a_rate_above_the_sec_limit() -> None:
    with pytest.raises(ValueError, match="at most 10"):
        EdgarClient(httpx.AsyncClient(), user_agent=UA, max_per_second=25)
