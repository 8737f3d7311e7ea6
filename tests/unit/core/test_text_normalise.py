"""Canonical URLs and content hashes recognise the same item seen twice."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finagency.core.text import canonical_url, content_hash, normalise_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTPS://WWW.SEC.gov/newsroom/press-releases/2025-31?utm_source=rss&utm_medium=feed",
            "https://www.sec.gov/newsroom/press-releases/2025-31",
        ),
        (
            "https://example.com/a?b=2&a=1&fbclid=XYZ&gclid=abc#comments",
            "https://example.com/a?a=1&b=2",
        ),
        ("http://Example.com:80/", "http://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com", "https://example.com/"),
        (
            "https://example.com/Path/Is/Case-Sensitive",
            "https://example.com/Path/Is/Case-Sensitive",
        ),
        ("https://example.com/?q=&UTM_Campaign=x", "https://example.com/?q="),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_tracking_variants_share_one_canonical_url() -> None:
    a = canonical_url("https://news.example.com/story?id=7&utm_source=x")
    b = canonical_url("https://NEWS.example.com/story?utm_campaign=y&id=7#top")
    assert a == b


urls = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}/{path}?{query}",
    st.sampled_from(["http", "https", "HTTP"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,10}\.(com|org)", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_\-/]{0,20}", fullmatch=True),
    st.from_regex(r"([a-z_]{1,6}=[A-Za-z0-9%+]{0,6}&){0,4}", fullmatch=True),
)


@given(urls)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_" not in once.split("?", 1)[-1]


def test_content_hash_ignores_case_and_whitespace() -> None:
    a = content_hash("  SEC Announces Departure of\n Acting Enforcement Director ")
    b = content_hash("sec announces departure of acting enforcement director")
    assert a == b
    assert len(a) == 64
    assert a != content_hash("sec announces arrival of acting enforcement director")


@given(st.text())
def test_content_hash_is_invariant_under_normalisation(text: str) -> None:
    assert content_hash(text) == content_hash(normalise_text(text))
    assert content_hash(text) == content_hash(f"  {text}\n\t")
