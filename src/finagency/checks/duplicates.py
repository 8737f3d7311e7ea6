"""The near-duplicate check: a draft that repeats a recent post goes to a reviewer."""

from __future__ import annotations

from collections.abc import Iterable

from finagency.checks.types import Finding
from finagency.core.simhash import distance, signature

CHECK_ID = "duplicates"
DEFAULT_MAX_DISTANCE = 3


def check_duplicates(
    text: str,
    recent_signatures: Iterable[int],
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    text_signature: int | None = None,
) -> list[Finding]:
    """One ``near_duplicate`` finding for the closest recent post within ``max_distance`` bits."""
    if not text.strip():
        return []
    own = signature(text) if text_signature is None else text_signature
    close = [
        gap for gap in (distance(own, other) for other in recent_signatures) if gap <= max_distance
    ]
    if not close:
        return []
    nearest = min(close)
    others = f" ({len(close)} recent posts within {max_distance})" if len(close) > 1 else ""
    message = f"near-duplicate of a recent post: SimHash distance {nearest} of 64 bits{others}"
    return [Finding(CHECK_ID, "review", "near_duplicate", message, None, "")]
