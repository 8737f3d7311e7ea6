"""SEC EDGAR client over an injected httpx client: declared User-Agent, ≤ 10 requests/s."""

from __future__ import annotations

import re
from collections.abc import Collection

import httpx

from finagency.integrations.sources.edgar.parser import (
    WWW_BASE_URL,
    parse_company_concept,
    parse_company_facts,
    parse_company_tickers_exchange,
    parse_filings_atom,
    parse_submissions,
)
from finagency.integrations.sources.edgar.types import CompanyListing, XbrlFact
from finagency.integrations.sources.fetch import fetch
from finagency.integrations.sources.limiter import IntervalLimiter
from finagency.integrations.sources.types import FetchResult, NewsEntry

DATA_BASE_URL = "https://data.sec.gov"
MAX_REQUESTS_PER_SECOND = 10.0
# The SEC asks for "<Company or App Name> <contact email>"; library defaults get 403.
_DECLARED_USER_AGENT = re.compile(r"\S.*\s\S+@\S+\.\S+")


def _cik10(cik: int | str) -> str:
    digits = str(cik).strip().upper().removeprefix("CIK")
    if not digits.isdigit() or len(digits) > 10:
        raise ValueError(f"not a CIK: {cik!r}")
    return digits.zfill(10)


class EdgarClient:
    """Reads EDGAR through ``client`` (normally the guarded client).

    The limiter is per instance: share one instance per process, and keep the total of
    all processes under the SEC's 10 requests/s (pass a lower ``max_per_second``).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        user_agent: str,
        data_base_url: str = DATA_BASE_URL,
        www_base_url: str = WWW_BASE_URL,
        max_per_second: float = MAX_REQUESTS_PER_SECOND,
        limiter: IntervalLimiter | None = None,
    ) -> None:
        if not _DECLARED_USER_AGENT.fullmatch(user_agent.strip()):
            raise ValueError(
                "EDGAR needs a declared User-Agent '<company or app name> <contact email>', "
                f"e.g. 'Acme Research ops@acme.example'; got {user_agent!r}"
            )
        if max_per_second > MAX_REQUESTS_PER_SECOND:
            raise ValueError(f"the SEC allows at most {MAX_REQUESTS_PER_SECOND:g} requests/s")
        self._client = client
        self._headers = {
            "User-Agent": user_agent.strip(),
            "Accept-Encoding": "gzip, deflate",
        }
        self.data_base_url = data_base_url.rstrip("/")
        self.www_base_url = www_base_url.rstrip("/")
        self._limiter = limiter or IntervalLimiter(max_per_second)

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """A rate-limited conditional GET with the declared headers; errors are typed."""
        await self._limiter.acquire()
        return await fetch(
            self._client, url, etag=etag, last_modified=last_modified, headers=self._headers
        )

    async def submissions(self, cik: int | str, *, forms: Collection[str] = ()) -> list[NewsEntry]:
        result = await self.get(f"{self.data_base_url}/submissions/CIK{_cik10(cik)}.json")
        return parse_submissions(result.body, forms=forms, www_base_url=self.www_base_url)

    async def company_facts(self, cik: int | str, *, tags: Collection[str] = ()) -> list[XbrlFact]:
        result = await self.get(f"{self.data_base_url}/api/xbrl/companyfacts/CIK{_cik10(cik)}.json")
        return parse_company_facts(result.body, tags=tags)

    async def company_concept(
        self, cik: int | str, tag: str, *, taxonomy: str = "us-gaap"
    ) -> list[XbrlFact]:
        url = f"{self.data_base_url}/api/xbrl/companyconcept/CIK{_cik10(cik)}/{taxonomy}/{tag}.json"
        return parse_company_concept((await self.get(url)).body)

    async def company_tickers(self) -> dict[str, CompanyListing]:
        result = await self.get(f"{self.www_base_url}/files/company_tickers_exchange.json")
        return parse_company_tickers_exchange(result.body)

    async def company_filings(
        self, cik: int | str, *, form_type: str = "", count: int = 40
    ) -> list[NewsEntry]:
        """The company's filings Atom feed (``browse-edgar?action=getcompany``)."""
        params = httpx.QueryParams(
            action="getcompany",
            CIK=_cik10(cik),
            type=form_type,
            owner="include",
            count=str(count),
            output="atom",
        )
        result = await self.get(f"{self.www_base_url}/cgi-bin/browse-edgar?{params}")
        return parse_filings_atom(result.body)
