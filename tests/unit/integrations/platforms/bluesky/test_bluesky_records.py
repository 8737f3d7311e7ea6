"""Bluesky records: link facets in UTF-8 byte offsets, derived record keys, grapheme limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from finagency.integrations.platforms.bluesky.records import (
    TID_PATTERN,
    AtUri,
    link_facets,
    record_key,
    web_url,
)
from finagency.integrations.platforms.textrules import graphemes, rules_for

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # 1 grapheme, 25 UTF-8 bytes
E_ACUTE = "e\u0301"  # 1 grapheme, 3 UTF-8 bytes
BLUESKY = rules_for("bluesky")
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize(
    ("prefix", "byte_start"),
    [
        ("", 0),
        ("📈 ", 5),  # a 4-byte emoji and a space
        ("日本の金利 ", 16),  # five 3-byte CJK characters and a space
        (f"{FAMILY} ", 26),  # a ZWJ sequence: 4 emoji of 4 bytes + 3 joiners of 3 bytes
        (f"caf{E_ACUTE} ", 7),  # a combining mark adds 2 bytes to one grapheme
    ],
)
def test_link_facet_uses_utf8_byte_offsets(prefix: str, byte_start: int) -> None:
    url = "https://news.example/cpi?m=5"
    text = f"{prefix}{url}. More soon"

    (facet,) = link_facets(text)

    index = facet["index"]
    assert index == {"byteStart": byte_start, "byteEnd": byte_start + len(url)}
    assert text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode() == url
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": url}]


def test_every_url_gets_a_facet_and_trailing_punctuation_is_left_out() -> None:
    text = "两个链接: https://a.example/x), and (https://b.example/y)!"

    facets = link_facets(text)

    raw = text.encode("utf-8")
    spans = [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert spans == ["https://a.example/x", "https://b.example/y"]
    assert link_facets("no links here") == []


def test_record_key_is_a_stable_past_tid_per_key_and_part() -> None:
    key = record_key("publish-42")

    assert TID_PATTERN.match(key)
    assert record_key("publish-42") == key
    assert record_key("publish-42", 0) == key
    assert len({key, record_key("publish-42", 1), record_key("publish-43")}) == 3
    value = 0
    for char in key:
        value = value * 32 + _TID_CHARS.index(char)
    moment = datetime.fromtimestamp((value >> 10) / 1_000_000, tz=UTC)
    assert datetime(2023, 1, 1, tzinfo=UTC) <= moment < datetime(2025, 1, 1, tzinfo=UTC)


def test_at_uri_round_trip_and_web_url() -> None:
    uri = "at://did:plc:abc/app.bsky.feed.post/3kabc"

    assert str(AtUri.parse(uri)) == uri
    assert web_url(uri, "fin.bsky.social") == "https://bsky.app/profile/fin.bsky.social/post/3kabc"
    assert web_url(uri) == "https://bsky.app/profile/did:plc:abc/post/3kabc"
    with pytest.raises(ValueError, match="not an at://"):
        AtUri.parse("https://bsky.app/x")


@pytest.mark.parametrize(
    ("text", "count", "fits"),
    [
        (FAMILY * 120, 120, True),  # 120 graphemes, 3000 bytes: exactly at the byte cap
        (FAMILY * 121, 121, False),  # 121 graphemes but 3025 bytes: over the byte cap
        (E_ACUTE * 300, 300, True),
        (E_ACUTE * 301, 301, False),
        ("株" * 300, 300, True),  # 900 bytes
        ("🇯🇵" * 300, 300, True),  # flags: one grapheme per regional-indicator pair
        ("x" * 250 + " https://example.com/" + "a" * 40, 311, False),  # URLs count in full
    ],
)
def test_bluesky_counts_graphemes_and_caps_bytes(text: str, count: int, fits: bool) -> None:
    assert BLUESKY.count(text) == count
    assert BLUESKY.fits(text) is fits


def test_grapheme_clusters_hard_cases() -> None:
    assert graphemes(f"a{FAMILY}b") == ["a", FAMILY, "b"]
    assert graphemes(f"{E_ACUTE}\u0302x") == [f"{E_ACUTE}\u0302", "x"]
    assert graphemes("👍🏽1\ufe0f\u20e3") == ["👍🏽", "1\ufe0f\u20e3"]
