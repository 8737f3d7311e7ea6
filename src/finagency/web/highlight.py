"""Split a post's text into plain and marked segments from its findings' spans (for <mark>)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from finagency.models import Finding


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    finding: Finding | None = None

    @property
    def title(self) -> str:
        if self.finding is None:
            return ""
        return f"{self.finding.severity}: {self.finding.reason_code} — {self.finding.message}"


def segments(text: str, findings: Sequence[Finding]) -> list[Segment]:
    """Plain runs and marked spans in order; overlapping or out-of-range spans are skipped.

    The template escapes every segment's text, so marking never lets the post's own markup in.
    """
    spans = sorted(
        (
            finding
            for finding in findings
            if finding.span_start is not None
            and finding.span_end is not None
            and 0 <= finding.span_start < finding.span_end <= len(text)
        ),
        key=lambda finding: (finding.span_start or 0, -(finding.span_end or 0)),
    )
    result: list[Segment] = []
    cursor = 0
    for finding in spans:
        start, end = finding.span_start or 0, finding.span_end or 0
        if start < cursor:
            continue  # overlaps the previous mark; the finding is still listed under the post
        if start > cursor:
            result.append(Segment(text[cursor:start]))
        result.append(Segment(text[start:end], finding))
        cursor = end
    if cursor < len(text):
        result.append(Segment(text[cursor:]))
    return result
