"""Per-platform variants: disclosure verbatim, link once, threads that fit, honest ``fits``."""

from __future__ import annotations

import pytest

from finagency.content.variants import assemble, body_budget, escape_markdown_v2, make_variant
from finagency.integrations.platforms.textrules import PLATFORMS, rules_for

DISCLOSURE = "For information only; not investment advice. Example Capital LLC."
POST = "$AAPL closed at $116.97 (+0.50%) on 6 Nov 2020. Previous close: $116.39."
LINK = "https://example.com/markets/aapl-close-6-nov"


@pytest.mark.parametrize("platform", [*PLATFORMS, "sandbox:bluesky"])
def test_short_post_is_one_part_with_the_disclosure(platform: str) -> None:
    variant = make_variant(POST, platform=platform, disclosure=DISCLOSURE, link=LINK)
    assert variant.platform == platform
    assert variant.parts == [variant.text]
    assert variant.text == f"{POST}\n{LINK}\n\n{DISCLOSURE}"
    assert DISCLOSURE in variant.text
    assert variant.fits
    assert variant.length == rules_for(platform).count(variant.text)


def test_x_counts_the_link_as_23() -> None:
    variant = make_variant(POST, platform="x", link=LINK)
    assert variant.length == len(POST) + 1 + 23
    assert make_variant(POST, platform="bluesky", link=LINK).length == len(POST) + 1 + len(LINK)


def test_link_already_in_the_text_is_not_added_twice() -> None:
    variant = make_variant(f"Read: {LINK}", platform="x", link=LINK)
    assert variant.text.count(LINK) == 1


@pytest.mark.parametrize("platform", ["x", "bluesky", "mastodon", "sandbox"])
def test_long_post_becomes_a_thread_with_the_disclosure_last(platform: str) -> None:
    text = " ".join([POST] * 12)
    variant = make_variant(text, platform=platform, disclosure=DISCLOSURE, link=LINK)
    rules = rules_for(platform)
    assert len(variant.parts) > 1
    assert variant.fits
    assert all(rules.fits(part) for part in variant.parts)
    assert DISCLOSURE in variant.parts[-1]
    assert all(DISCLOSURE not in part for part in variant.parts[:-1])
    assert variant.parts[0].endswith(f"(1/{len(variant.parts)})")
    assert variant.part_lengths == tuple(rules.count(part) for part in variant.parts)
    assert DISCLOSURE in variant.text


def test_too_long_for_a_platform_without_threads_does_not_fit() -> None:
    variant = make_variant("word " * 700, platform="linkedin", disclosure=DISCLOSURE)
    assert len(variant.parts) == 1
    assert not variant.fits
    assert variant.length > 3000


def test_disclosure_longer_than_a_post_makes_the_variant_not_fit() -> None:
    variant = make_variant(POST, platform="x", disclosure="Risk warning. " * 30)
    assert not variant.fits
    assert variant.text.endswith("Risk warning.")


def test_empty_post_does_not_fit() -> None:
    assert not make_variant("   ", platform="x").fits


def test_telegram_variant_is_plain_text() -> None:
    variant = make_variant(POST, platform="telegram", disclosure=DISCLOSURE)
    assert "\\" not in variant.text
    assert variant.text.startswith(POST)


def test_markdown_v2_escaping_for_clients_that_want_it() -> None:
    assert escape_markdown_v2("$AAPL +0.50% (6 Nov).") == r"$AAPL \+0\.50% \(6 Nov\)\."
    assert escape_markdown_v2("a_b*c") == r"a\_b\*c"


def test_body_budget_leaves_room_for_link_and_disclosure() -> None:
    x = rules_for("x")
    budget = body_budget(x, disclosure=DISCLOSURE, link=LINK)
    assert budget == 280 - (1 + 23 + 2 + len(DISCLOSURE))
    body = "a" * budget
    assert x.fits(assemble(body, disclosure=DISCLOSURE, link=LINK))
    assert not x.fits(assemble(body + "a", disclosure=DISCLOSURE, link=LINK))


def test_body_budget_gives_a_whole_post_when_the_disclosure_crowds_it_out() -> None:
    x = rules_for("x")
    budget = body_budget(x, disclosure="Risk warning. " * 18)
    assert 250 <= budget < 280
