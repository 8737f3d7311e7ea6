"""Platform text rules: counting as each platform counts, limits, sandbox, thread splitting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finagency.integrations.platforms.textrules import (
    PLATFORMS,
    UnknownPlatformError,
    graphemes,
    rules_for,
)

X = rules_for("x")
BLUESKY = rules_for("bluesky")
MASTODON = rules_for("mastodon")
SUFFIX = re.compile(r" \((\d+)/(\d+)\)$")


def _strip_suffixes(parts: list[str]) -> list[str]:
    return [SUFFIX.sub("", part) for part in parts]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$AAPL closed at $116.97 (+0.50%).", 33),
        ("https://example.com/a/very/long/path/that/goes/on/and/on?x=1", 23),
        ("short link https://t.co/a", 11 + 23),
        ("see example.com today", 4 + 23 + 6),
        ("ir@apple.com", 12),
        ("👍", 2),
        ("👍🏽", 2),
        ("👨‍👩‍👧", 2),
        ("🇺🇸", 2),
        ("日本株", 6),
        ("“quoted” — fine", 15),
        ("e\u0301", 1),  # NFC turns e + combining acute into one code point
    ],
)
def test_x_counts_weighted_characters(text: str, expected: int) -> None:
    assert X.count(text) == expected


def test_x_limit_is_280_weighted() -> None:
    assert X.fits("a" * 280)
    assert not X.fits("a" * 281)
    assert X.fits("日" * 140)
    assert not X.fits("日" * 141)
    url = "https://example.com/" + "p" * 400
    assert X.fits(url + " " + "a" * 256)


def test_url_trailing_full_stop_is_not_part_of_the_link() -> None:
    assert X.count("Read https://example.com/x.") == 5 + 23 + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👨‍👩‍👧", 1),
        ("🇺🇸🇫🇷", 2),
        ("👍🏽 ok", 4),
        ("e\u0301", 1),
        ("1\ufe0f\u20e3", 1),
        ("a\r\nb", 3),
        ("日本株", 3),
    ],
)
def test_bluesky_counts_graphemes(text: str, expected: int) -> None:
    assert BLUESKY.count(text) == expected
    assert len(graphemes(text)) == expected


def test_bluesky_counts_urls_in_full_and_caps_bytes() -> None:
    url = "https://example.com/" + "p" * 100
    assert BLUESKY.count(url) == len(url)
    assert BLUESKY.fits("a" * 300)
    assert not BLUESKY.fits("a" * 301)
    heavy = ("a" + "\u0301" * 20) * 100  # 100 graphemes, 4,100 UTF-8 bytes
    assert BLUESKY.count(heavy) == 100
    assert not BLUESKY.fits(heavy)


def test_mastodon_counts_urls_as_23_and_remote_mentions_as_local() -> None:
    url = "https://example.com/" + "p" * 100
    assert MASTODON.count(url) == 23
    assert MASTODON.count(f"Read {url}.") == 5 + 23 + 1
    assert MASTODON.count("@alice@example.social") == len("@alice")
    assert MASTODON.max_length == 500


def test_telegram_and_linkedin_count_utf16_units() -> None:
    assert rules_for("telegram").count("😀") == 2
    assert rules_for("telegram").max_length == 4096
    assert rules_for("linkedin").count("😀 ok") == 5
    assert rules_for("linkedin").max_length == 3000


def test_limits_of_the_other_platforms() -> None:
    assert rules_for("discord").max_length == 2000
    assert rules_for("slack").max_length == 40_000
    assert rules_for("webhook").max_length >= 40_000


def test_every_listed_platform_has_rules() -> None:
    for platform in PLATFORMS:
        assert rules_for(platform).max_length > 0


def test_sandbox_borrows_x_by_default_or_the_named_platform() -> None:
    sandbox = rules_for("sandbox")
    assert (sandbox.name, sandbox.max_length, sandbox.counting) == ("sandbox", 280, "x_weighted")
    named = rules_for("sandbox:x")
    assert named.name == "sandbox:x"
    assert named.count("👍 https://example.com/long/path") == X.count(
        "👍 https://example.com/long/path"
    )
    assert rules_for("sandbox:mastodon").max_length == 500


@pytest.mark.parametrize("platform", ["myspace", "sandbox:myspace", ""])
def test_unknown_platform_raises_a_clear_key_error(platform: str) -> None:
    with pytest.raises(KeyError) as caught:
        rules_for(platform)
    assert isinstance(caught.value, UnknownPlatformError)
    assert "unknown platform" in str(caught.value)
    assert "bluesky" in str(caught.value)


def test_short_text_is_one_unnumbered_part() -> None:
    assert X.split_thread("  $AAPL closed at $116.97.  ") == ["$AAPL closed at $116.97."]


def test_long_text_splits_at_sentences_with_numbering() -> None:
    sentences = [
        f"Sentence number {word} says something about the market." for word in "abcdefghij"
    ]
    text = " ".join(sentences)
    parts = X.split_thread(text)
    assert len(parts) > 1
    for index, part in enumerate(parts, start=1):
        assert X.fits(part)
        assert part.endswith(f" ({index}/{len(parts)})")
        assert _strip_suffixes([part])[0].endswith("market.")  # broke between sentences
    assert " ".join(_strip_suffixes(parts)).split() == text.split()


def test_tail_is_whole_in_the_last_part_only() -> None:
    disclosure = "Not investment advice. Example Capital LLC, member FINRA/SIPC."
    text = " ".join(["The session was busy and the tape was mixed."] * 12)
    parts = X.split_thread(text, tail=disclosure)
    assert disclosure in parts[-1]
    assert all(disclosure not in part for part in parts[:-1])
    assert all(X.fits(part) for part in parts)


def test_tail_too_long_for_one_post_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        X.split_thread("A body. " * 60, tail="word " * 100)


def test_platforms_without_threads_return_the_whole_text() -> None:
    linkedin = rules_for("linkedin")
    text = "word " * 1000
    parts = linkedin.split_thread(text)
    assert parts == [text.strip()]
    assert not linkedin.fits(parts[0])


def test_word_longer_than_a_post_is_cut_without_losing_characters() -> None:
    url = "https://example.com/" + "p" * 700
    text = f"Read this: {url} and more."
    parts = BLUESKY.split_thread(text)
    assert all(BLUESKY.fits(part) for part in parts)
    assert "".join("".join(_strip_suffixes(parts)).split()) == "".join(text.split())


def test_ten_or_more_parts_still_fit_with_wider_numbers() -> None:
    text = " ".join(f"Point {chr(97 + i % 26)} matters for the close." for i in range(120))
    parts = X.split_thread(text)
    assert len(parts) >= 10
    assert parts[-1].endswith(f"({len(parts)}/{len(parts)})")
    assert all(X.fits(part) for part in parts)


_WORD = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz$%.,0123456789", min_size=1, max_size=25),
    st.sampled_from(["👍🏽", "日本株", "👨‍👩‍👧", "https://example.com/some/path", "—", "“q”"]),
)


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(_WORD, min_size=1, max_size=250),
    platform=st.sampled_from(["x", "bluesky", "mastodon"]),
)
def test_split_parts_always_fit_and_keep_every_word(words: list[str], platform: str) -> None:
    rules = rules_for(platform)
    text = " ".join(words)
    parts = rules.split_thread(text, tail="Not advice.")
    assert all(rules.fits(part) for part in parts)
    assert "Not advice." in parts[-1]
    body = " ".join(_strip_suffixes(parts)).removesuffix("Not advice.")
    assert body.split() == text.split()
