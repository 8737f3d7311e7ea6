"""LinkedIn little-format escaping and length counting (UTF-16 units, before escaping)."""

from __future__ import annotations

import pytest

from finagency.integrations.platforms.linkedin import escape_little, unescape_little
from finagency.integrations.platforms.linkedin.little import same_post
from finagency.integrations.platforms.textrules import rules_for


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text, 3.5% up!", "plain text, 3.5% up!"),
        ("a\\b", "a\\\\b"),
        ("|{}@[]()<>#*_~", "\\|\\{\\}\\@\\[\\]\\(\\)\\<\\>\\#\\*\\_\\~"),
        ("@[Name](urn:li:person:1)", "\\@\\[Name\\]\\(urn:li:person:1\\)"),
        ("日本 👍🏽 é", "日本 👍🏽 é"),
    ],
)
def test_every_reserved_character_is_escaped(text: str, escaped: str) -> None:
    assert escape_little(text) == escaped
    assert unescape_little(escaped) == text


def test_length_counts_utf16_units_before_escaping() -> None:
    rules = rules_for("linkedin")
    assert rules.count("(" * 3000) == 3000 and rules.fits("(" * 3000)
    assert rules.count("😀") == 2  # astral plane: a surrogate pair
    assert not rules.fits("😀" * 1501)


@pytest.mark.parametrize(
    ("remote", "text", "same"),
    [
        ("CPI (May)\n\nup", "CPI (May) up", True),
        ("Curve\n\nhttps://ex.com/c", "Curve", True),
        ("Curve", "Curve!", False),
        ("https://ex.com/a", "https://ex.com/b", False),
    ],
)
def test_read_back_matching(remote: str, text: str, same: bool) -> None:
    assert same_post(remote, text) is same
