"""Data licences: numbers from sources with no licence to republish never reach a public post.

Yahoo's chart API and Stooq grant no republication rights (data-sources.md C3, C4), so a fact
sheet built from them is for development only (compliance.md E1.4). Posting such a sheet to a
real platform blocks unless the operator has explicitly accepted the licence risk for the
brand; the local sandbox is not publication, so there it is only noted. Sources whose terms
ask for attribution (CoinGecko) get it added to the post, and the check makes sure it stays.
"""

from __future__ import annotations

from finagency.checks.types import Finding
from finagency.core.factsheet import FactSheet

CHECK_ID = "licensing"
# Lower-case fragments of a fact's source that mark it as not licensed for publication.
UNLICENSED_MARKERS = ("yahoo", "stooq", "development only")
NOT_FOR_PUBLICATION_EXTRA = "not_for_publication"
COINGECKO_ATTRIBUTION = "Data provided by CoinGecko (coingecko.com)"
COINGECKO_HOST = "coingecko.com"
SANDBOX_PREFIX = "sandbox"


def unlicensed_sources(factsheet: FactSheet) -> list[str]:
    """The sources in the sheet that may not be published from, by name."""
    found = {
        fact.source
        for fact in factsheet.facts
        if any(marker in fact.source.lower() for marker in UNLICENSED_MARKERS)
    }
    marked = factsheet.extra.get(NOT_FOR_PUBLICATION_EXTRA, "")
    found.update(name.strip() for name in marked.split(",") if name.strip())
    return sorted(found)


def required_attributions(factsheet: FactSheet) -> tuple[str, ...]:
    """Attribution lines the sheet's sources require wherever their data appears."""
    if any("coingecko" in fact.source.lower() for fact in factsheet.facts):
        return (COINGECKO_ATTRIBUTION,)
    return ()


def attribution_hosts(factsheet: FactSheet) -> tuple[str, ...]:
    """Hosts an attribution links to: allowed even when not on the brand's link list."""
    return (COINGECKO_HOST,) if required_attributions(factsheet) else ()


def check_licensing(factsheet: FactSheet, platform: str, *, accepted: bool) -> list[Finding]:
    sources = unlicensed_sources(factsheet)
    if not sources:
        return []
    names = ", ".join(sources)
    if platform.startswith(SANDBOX_PREFIX):
        return [
            Finding(
                CHECK_ID,
                "info",
                "unlicensed_source_sandbox",
                f"data from {names} has no licence to republish; fine for the sandbox only",
                None,
                "",
            )
        ]
    if accepted:
        return [
            Finding(
                CHECK_ID,
                "review",
                "unlicensed_source_accepted",
                f"data from {names} has no licence to republish; the brand accepted the risk",
                None,
                "",
            )
        ]
    return [
        Finding(
            CHECK_ID,
            "block",
            "unlicensed_source",
            f"data from {names} is not licensed for publication: use a licensed source",
            None,
            "",
        )
    ]
