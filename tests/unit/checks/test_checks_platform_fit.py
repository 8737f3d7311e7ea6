"""Platform fit: length as each platform counts it, empty text, and the link allow-list."""

from __future__ import annotations

import pytest

from finagency.checks.platform_fit import check_platform_fit, host_allowed, links

LONG = "Apple shares fell on Friday after results. " * 10  # ~430 characters


def codes(text: str, platform: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(f.severity, f.reason_code) for f in check_platform_fit(text, platform, **kwargs)]  # type: ignore[arg-type]


def test_too_long_for_x_threads_but_fits_linkedin() -> None:
    assert codes(LONG, "x") == [("info", "will_thread")]
    assert codes(LONG, "linkedin") == []


def test_too_long_blocks_where_threads_are_not_possible_or_allowed() -> None:
    assert codes("x" * 2001, "discord") == [("block", "too_long")]
    assert codes(LONG, "x", allow_threads=False) == [("block", "too_long")]


def test_x_counts_links_as_23() -> None:
    text = "a" * 250 + " https://example.com/" + "p" * 100
    assert codes(text, "x", link_allowlist=("example.com",)) == []


def test_empty_text_blocks() -> None:
    assert codes("  \n ", "x") == [("block", "empty")]


def test_unknown_platform_blocks() -> None:
    assert codes("hello", "myspace") == [("block", "unknown_platform")]


def test_link_off_the_allow_list_goes_to_review_with_its_span() -> None:
    text = "Details: https://evil.example.net/x?y=1. And https://news.example.com/a"
    findings = check_platform_fit(text, "linkedin", ("example.com",))
    assert [(f.severity, f.reason_code) for f in findings] == [("review", "link_not_allowed")]
    start, end = findings[0].span or (0, 0)
    assert text[start:end] == "https://evil.example.net/x?y=1"


def test_no_allow_list_means_every_link_is_reviewed() -> None:
    assert codes("See www.example.com", "x") == [("review", "link_not_allowed")]


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("see bit.ly/abc and https://WWW.SEC.gov/x", ["bit.ly", "sec.gov"]),
        ("Berkshire (BRK.B) rose; Apple Inc. fell 1.1%", []),
        ("(https://example.com/a).", ["example.com"]),
    ],
)
def test_links_are_found_without_false_positives(text: str, hosts: list[str]) -> None:
    assert [host for _, host in links(text)] == hosts


def test_subdomains_of_allowed_domains_are_allowed() -> None:
    assert host_allowed("ir.apple.com", ["apple.com"])
    assert not host_allowed("apple.com.evil.io", ["apple.com"])
    assert not host_allowed("notapple.com", ["apple.com"])
