"""X length counting through textrules (URLs, emoji, CJK, combining marks) and read-back matching."""

from __future__ import annotations

import pytest

from finagency.integrations.platforms.textrules import rules_for
from finagency.integrations.platforms.x.readback import same_post

X = rules_for("x")


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("https://example.com/" + "a" * 200, 23),  # any URL is 23
        ("see example.com/path now", 4 + 23 + 4),
        ("👍🏽", 2),  # skin-tone sequence is one emoji
        ("👨‍👩‍👧‍👦", 2),  # ZWJ family
        ("🇯🇵", 2),  # flag
        ("日本語", 6),  # CJK weighs 2 each
        ("e\u0301", 1),  # NFC composes é
        ("a\u0328\u0301", 2),  # no single code point: base plus a remaining mark
        ("—“”", 3),  # general punctuation in the weight-1 ranges
    ],
)
def test_hard_cases_count_as_x_does(text: str, weight: int) -> None:
    assert X.count(text) == weight


def test_limits_at_the_edge() -> None:
    assert X.fits("a" * 280) and not X.fits("a" * 281)
    assert X.fits("数" * 140) and not X.fits("数" * 141)
    assert X.fits("a" * 257 + "https://example.com/very/long/" + "x" * 300)


def test_thread_parts_each_fit_and_are_numbered() -> None:
    parts = X.split_thread("市場は上昇しました。" * 40)
    assert len(parts) > 1
    assert all(X.fits(part) for part in parts)
    assert parts[0].endswith(f"(1/{len(parts)})")


@pytest.mark.parametrize(
    ("remote", "text", "same"),
    [
        ("Rates &amp; spreads https://t.co/abc", "Rates & spreads https://ex.com/x", True),
        ("Rates  &amp;\nspreads", "Rates & spreads", True),
        ("Rates & spreads", "Rates & spread", False),
        ("First part of a long text (1/3)", "First part of a long text and more", True),
        ("First part (1/1)", "First part and more", False),
        ("Something else (1/2)", "First part and more", False),
        ("", "", False),
    ],
)
def test_read_back_matching(remote: str, text: str, same: bool) -> None:
    assert same_post(remote, text) is same
