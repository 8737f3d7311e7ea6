"""Near-duplicates: a draft that repeats a recent post goes to review, with the distance."""

from __future__ import annotations

from finagency.checks.duplicates import check_duplicates
from finagency.core.simhash import signature

RECENT = "Apple shares fell 1.1% on Friday to close at $97.34 after quarterly results."


def test_repeat_of_a_recent_post_is_flagged_with_the_distance() -> None:
    findings = check_duplicates(RECENT, [signature("Something else entirely"), signature(RECENT)])
    assert [(f.severity, f.reason_code) for f in findings] == [("review", "near_duplicate")]
    assert "distance 0" in findings[0].message


def test_different_post_is_not_flagged() -> None:
    other = "Treasury yields slipped as investors weighed softer inflation data in Europe."
    assert check_duplicates(other, [signature(RECENT)]) == []


def test_no_recent_posts_means_nothing_to_compare() -> None:
    assert check_duplicates(RECENT, []) == []
