"""The vocabulary every check speaks: findings, their severities, and the verdict they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["block", "review", "info"]
Verdict = Literal["pass", "review", "block"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check noticed in a text.

    ``reason_code`` is stable (stored with the audit trail and searched by reviewers);
    ``span`` is a ``(start, end)`` character range into the checked text, ``None`` when the
    finding is about the text as a whole (a missing disclosure, the length).
    """

    check_id: str
    severity: Severity
    reason_code: str
    message: str
    span: tuple[int, int] | None
    excerpt: str


def verdict(findings: Iterable[Finding]) -> Verdict:
    """Any block blocks, otherwise any review needs a reviewer, otherwise the text passes."""
    severities = {finding.severity for finding in findings}
    if "block" in severities:
        return "block"
    if "review" in severities:
        return "review"
    return "pass"


def excerpt_of(text: str, span: tuple[int, int], margin: int = 20) -> str:
    """The matched text with a little context, so a reviewer can read it without the post."""
    start, end = span
    left = max(0, start - margin)
    right = min(len(text), end + margin)
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return prefix + " ".join(text[left:right].split()) + suffix
