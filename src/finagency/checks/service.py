"""The checks domain's public entry: run every check on a draft, add the findings up to a verdict.

Pure: everything a check needs arrives in :class:`CheckContext` (the caller loads the fact
sheet, the brand's settings and recent post signatures), so a draft can be checked on every
keystroke, in a job, or in a test, with the same result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from finagency.checks.disclosures import (
    RequiredText,
    Sponsorship,
    check_disclosures,
    check_sponsorship,
    disclosure_spans,
)
from finagency.checks.duplicates import DEFAULT_MAX_DISTANCE, check_duplicates
from finagency.checks.grounding import check_grounding, label_spans
from finagency.checks.lexicon import check_lexicon
from finagency.checks.licensing import attribution_hosts, check_licensing, required_attributions
from finagency.checks.numbers import extract_claims
from finagency.checks.platform_fit import check_platform_fit
from finagency.checks.profiles import Profile, disclosures, get_profile
from finagency.checks.types import Finding, Verdict, verdict
from finagency.core.factsheet import Fact, FactSheet

__all__ = ["CheckContext", "Finding", "Sponsorship", "Verdict", "run_checks", "verdict"]


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything the checks need besides the text.

    ``required_disclosures`` are the brand's own verbatim texts ("Not investment advice.
    Capital at risk."), added to what the profile requires; ``staleness`` overrides the
    freshness limits by class ("quote", "macro", "filing") or by fact key.
    """

    factsheet: FactSheet
    platform: str
    now: datetime
    profile: str = "default"
    required_disclosures: tuple[str, ...] = ()
    firm_name: str | None = None
    link_allowlist: tuple[str, ...] = ()
    recent_signatures: tuple[int, ...] = ()
    staleness: Mapping[str, timedelta] = field(default_factory=dict)
    sponsorship: Sponsorship | None = None
    max_duplicate_distance: int = DEFAULT_MAX_DISTANCE
    # The operator explicitly accepted publishing from sources with no licence (Yahoo, Stooq).
    accept_unlicensed: bool = False


def _profile_texts(profile: Profile) -> list[str]:
    known = disclosures()
    ids = profile.required_for("", set(profile.triggered))
    ids += tuple(ident for kind_ids in profile.required_by_kind.values() for ident in kind_ids)
    return [known[ident].text for ident in ids]


def _required(profile: Profile, ctx: CheckContext, hit: set[str]) -> list[RequiredText]:
    known = disclosures()
    required = [
        RequiredText(ident, known[ident].text)
        for ident in profile.required_for(ctx.factsheet.kind, hit)
    ]
    required += [RequiredText("brand disclosure", text) for text in ctx.required_disclosures]
    required += [
        RequiredText("data attribution", text) for text in required_attributions(ctx.factsheet)
    ]
    if profile.require_firm_name and ctx.firm_name:
        required.append(RequiredText("firm name", ctx.firm_name))
    return required


def _with_sponsorship(sheet: FactSheet, sponsorship: Sponsorship | None) -> FactSheet:
    if sponsorship is None:
        return sheet
    # The fee is a figure the post must state, so it is as grounded as any market fact.
    fee = Fact(
        key="sponsorship.amount",
        kind="price",
        value=sponsorship.amount,
        unit=sponsorship.currency,
        currency=sponsorship.currency,
        source="sponsorship agreement",
    )
    return dataclasses.replace(sheet, facts=(*sheet.facts, fee))


def run_checks(text: str, ctx: CheckContext) -> list[Finding]:
    """All findings for ``text``: grounding, lexicon, disclosures, platform fit, licensing,
    duplicates."""
    profile = get_profile(ctx.profile)
    protected = [
        *_profile_texts(profile),
        *ctx.required_disclosures,
        *required_attributions(ctx.factsheet),
    ]
    if ctx.firm_name:
        protected.append(ctx.firm_name)
    # Prescribed wording and the firm's name are not claims: "Take 2 mins" is not a figure.
    exempt = disclosure_spans(text, protected)
    # Series labels ("3M", "10Y") are names here; only grounding reads them differently.
    labels = label_spans(text, ctx.factsheet)

    lexicon = check_lexicon(text, profile, exempt)
    if ctx.sponsorship is not None:
        # Promotion words are expected in a declared paid post; the §17(b) check covers it.
        lexicon = [finding for finding in lexicon if finding.reason_code != "sponsored"]
    hit = {finding.reason_code for finding in lexicon}

    findings = check_grounding(
        text,
        _with_sponsorship(ctx.factsheet, ctx.sponsorship),
        ctx.now,
        staleness=ctx.staleness,
        claims=extract_claims(text, exempt + labels),
    )
    findings += lexicon
    findings += check_disclosures(text, _required(profile, ctx, hit), profile.missing_disclosure)
    if profile.require_firm_name and not ctx.firm_name:
        findings.append(
            Finding(
                "disclosures",
                "review",
                "firm_name_unset",
                f"profile {profile.name} requires the firm's name but the brand has none set",
                None,
                "",
            )
        )
    if ctx.sponsorship is not None:
        findings += check_sponsorship(text, ctx.sponsorship)
    findings += check_platform_fit(
        text,
        ctx.platform,
        (*ctx.link_allowlist, *attribution_hosts(ctx.factsheet)),
        allow_threads=profile.allow_threads,
    )
    findings += check_licensing(ctx.factsheet, ctx.platform, accepted=ctx.accept_unlicensed)
    findings += check_duplicates(
        text, ctx.recent_signatures, max_distance=ctx.max_duplicate_distance
    )
    return findings
