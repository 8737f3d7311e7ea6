"""The disclosures check: required warnings, firm name and sponsorship wording, verbatim.

"Verbatim" means the exact words in the exact order and letter case. Only whitespace may
differ (platforms reflow lines), typographic quotes count as straight ones (editors and
platforms swap them), and a final full stop is optional (a post may end on the warning).
Anything else, "Capital is at risk" for "Capital at risk", counts as missing: prescribed
wording that has been paraphrased is not the prescribed wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from finagency.checks.numbers import extract_claims
from finagency.checks.types import Finding, Severity

CHECK_ID = "disclosures"
PAID_PROMOTION_LABEL = "paid promotion"

_QUOTES = {"'": "['’‘]", "’": "['’‘]", '"': '["“”]', "“": '["“”]', "”": '["“”]'}


@dataclass(frozen=True, slots=True)
class RequiredText:
    """One disclosure a post must carry: ``label`` names it in findings ("past_performance")."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Sponsorship:
    """Who paid for a promotion and how much (Securities Act §17(b))."""

    payer: str
    amount: float
    currency: str = "USD"


def _token(word: str) -> str:
    return "".join(_QUOTES.get(char) or re.escape(char) for char in word)


@lru_cache(maxsize=512)
def disclosure_pattern(text: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A regex finding ``text`` verbatim, tolerant only of whitespace, quote style, final stop."""
    words = text.strip().rstrip(".").split()
    if not words:
        raise ValueError("a disclosure cannot be empty")
    pattern = r"\s+".join(_token(word) for word in words) + r"\.?"
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


def find_disclosure(text: str, disclosure: str) -> tuple[int, int] | None:
    """Where ``disclosure`` appears verbatim in ``text``, or ``None``."""
    match = disclosure_pattern(disclosure).search(text)
    return match.span() if match else None


def disclosure_spans(text: str, disclosures: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Spans of every listed disclosure present in ``text``; other checks leave these alone."""
    spans: list[tuple[int, int]] = []
    for disclosure in disclosures:
        if disclosure.strip():
            spans.extend(match.span() for match in disclosure_pattern(disclosure).finditer(text))
    return tuple(spans)


def check_disclosures(
    text: str, required: Sequence[RequiredText], severity: Severity = "block"
) -> list[Finding]:
    """A ``missing_disclosure`` finding for each required text not present verbatim."""
    findings = []
    for item in required:
        if not item.text.strip() or find_disclosure(text, item.text) is not None:
            continue
        altered = disclosure_pattern(item.text, ignore_case=True).search(text) is not None
        how = "present but altered (letter case differs)" if altered else "missing or altered"
        findings.append(
            Finding(
                check_id=CHECK_ID,
                severity=severity,
                reason_code="missing_disclosure",
                message=f"required disclosure {item.label!r} is {how}: expected {item.text!r}",
                span=None,
                excerpt=item.text,
            )
        )
    return findings


def check_sponsorship(text: str, sponsorship: Sponsorship) -> list[Finding]:
    """A paid post must name the payer, state the amount and say "paid promotion", or it blocks."""
    missing = []
    if not re.search(re.escape(PAID_PROMOTION_LABEL), text, re.IGNORECASE):
        missing.append(f"the label {PAID_PROMOTION_LABEL!r}")
    if disclosure_pattern(sponsorship.payer, ignore_case=True).search(text) is None:
        missing.append(f"the payer {sponsorship.payer!r}")
    amounts = extract_claims(text).numbers
    if not any(abs(claim.value - sponsorship.amount) <= claim.tolerance for claim in amounts):
        missing.append(f"the amount {sponsorship.amount:,.2f} {sponsorship.currency}")
    if not missing:
        return []
    return [
        Finding(
            check_id=CHECK_ID,
            severity="block",
            reason_code="missing_sponsorship_disclosure",
            message="paid promotion must disclose "
            + ", ".join(missing)
            + " (Securities Act §17(b))",
            span=None,
            excerpt="",
        )
    ]
