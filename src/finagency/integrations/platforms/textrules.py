"""Per-platform text rules: how long a post may be, how each platform counts it, thread splitting.

Facts come from ``reference/platforms.md``:

- X: 280 weighted (twitter-text v3): NFC first; code points in 0-4351, 8192-8205,
  8208-8223 and 8242-8247 weigh 1, all others 2; an emoji sequence weighs 2; a URL weighs 23.
- Mastodon: 500 grapheme clusters; a URL counts 23; ``@user@host`` counts as ``@user``.
- Bluesky: 300 graphemes and 3000 UTF-8 bytes; URLs count in full.
- LinkedIn: 3000, counted in UTF-16 units before "little" format escaping.
- Telegram: 4096 UTF-16 units of the rendered (plain) text.
- Discord: 2000 characters. Slack: 40,000 (longer messages are truncated).
- webhook: no platform limit; we cap at 100,000 characters to keep payloads sane.
- sandbox: a stand-in that borrows another platform's rules ("sandbox:mastodon"); X by default.

Graphemes are approximated without third-party code (see ``graphemes``): base character plus
combining marks, variation selectors, skin tones, tags, keycaps and ZWJ-joined pictographs;
regional-indicator pairs; CRLF. That covers Latin, CJK, common scripts and emoji sequences.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Counting = Literal["x_weighted", "graphemes", "utf16", "codepoints"]

PLATFORMS: tuple[str, ...] = (
    "sandbox",
    "webhook",
    "telegram",
    "discord",
    "slack",
    "mastodon",
    "bluesky",
    "x",
    "linkedin",
)

_SCHEME_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
# X also links bare domains; we only recognise common TLDs, which errs on the side of
# counting a few extra characters rather than too few.
_X_URL = re.compile(
    r"https?://[^\s<>\"]+"
    r"|(?<![@\w.$/])(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|org|net|io|co|ai|gov|edu|info|biz|me|us|uk|eu|de|fr|app|dev|news|finance|ly|gl)\b"
    r"(?:/[^\s<>\"]*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!?'\"”’"
_REMOTE_MENTION = re.compile(r"@(\w+)@[\w.-]+\w")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:])[ \t]+|\s*\n\s*")


class UnknownPlatformError(KeyError):
    """Raised by ``rules_for`` for a platform we have no rules for."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.platform = platform

    def __str__(self) -> str:
        known = ", ".join(PLATFORMS)
        return f"unknown platform {self.platform!r}; known platforms: {known} (or 'sandbox:<name>')"


def _is_pictographic(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x3030, 0x303D)
    )


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_extender(cp: int) -> bool:
    if (
        0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tones
        or 0xE0020 <= cp <= 0xE007F  # tag sequences (subdivision flags)
        or cp == 0x20E3  # keycap
    ):
        return True
    return unicodedata.category(chr(cp)) in ("Mn", "Me", "Mc")


def graphemes(text: str) -> list[str]:
    """Split ``text`` into (approximate) extended grapheme clusters."""
    if text.isascii() and "\r" not in text:
        return list(text)  # ASCII (bar CR LF pairs) never joins characters into one cluster
    clusters: list[str] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        cp = ord(text[i])
        i += 1
        if cp == 0x0D and i < n and text[i] == "\n":
            i += 1
        elif unicodedata.category(chr(cp)) not in ("Cc", "Zl", "Zp"):
            if _is_regional_indicator(cp) and i < n and _is_regional_indicator(ord(text[i])):
                i += 1
            while i < n:
                nxt = ord(text[i])
                if nxt == 0x200D:  # zero-width joiner glues the next pictograph on
                    i += 1
                    if i < n and _is_pictographic(ord(text[i])):
                        i += 1
                elif _is_extender(nxt):
                    i += 1
                else:
                    break
        clusters.append(text[start:i])
    return clusters


def _x_weight(cp: int) -> int:
    if cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or 8242 <= cp <= 8247:
        return 1
    return 2


def _is_emoji_cluster(cluster: str) -> bool:
    return any(
        _is_pictographic(ord(ch)) or ord(ch) in (0xFE0F, 0x20E3) or _is_regional_indicator(ord(ch))
        for ch in cluster
    )


def _url_spans(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        if url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        spans.append((match.start(), match.start() + len(url)))
    return spans


def _x_weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total, cursor = 0, 0
    for start, end in [*_url_spans(text, _X_URL), (len(text), len(text))]:
        piece = text[cursor:start]
        if piece.isascii():
            # Every ASCII character is its own cluster of weight 1: skip the cluster walk,
            # which is most of the cost of checking a typical post.
            total += len(piece)
        else:
            for cluster in graphemes(piece):
                total += (
                    2 if _is_emoji_cluster(cluster) else sum(_x_weight(ord(c)) for c in cluster)
                )
        if end > start:
            total += 23
        cursor = end
    return total


def _mastodon_length(text: str, link_length: int) -> int:
    countable = _SCHEME_URL.sub(lambda m: _mastodon_url(m, link_length), text)
    countable = _REMOTE_MENTION.sub(r"@\1", countable)
    return len(graphemes(countable))


def _mastodon_url(match: re.Match[str], link_length: int) -> str:
    url = match.group(0)
    kept = url.rstrip(_TRAILING_PUNCTUATION)
    return "x" * link_length + url[len(kept) :]


@dataclass(frozen=True, slots=True)
class TextRules:
    """How one platform measures a post and how long it may be."""

    name: str
    max_length: int
    counting: Counting
    supports_threads: bool
    link_length: int | None = None  # every URL counts as this many; None = counted in full
    max_bytes: int | None = None  # extra UTF-8 byte cap (Bluesky)

    def count(self, text: str) -> int:
        """Length of ``text`` as the platform counts it."""
        if self.counting == "x_weighted":
            return _x_weighted_length(text)
        if self.counting == "graphemes":
            if self.link_length is not None:
                return _mastodon_length(text, self.link_length)
            return len(graphemes(text))
        if self.counting == "utf16":
            return len(text.encode("utf-16-le")) // 2
        return len(text)

    def fits(self, text: str) -> bool:
        if self.max_bytes is not None and len(text.encode("utf-8")) > self.max_bytes:
            return False
        return self.count(text) <= self.max_length

    def split_thread(self, text: str, *, tail: str = "") -> list[str]:
        """Split ``text`` into posts that each fit, numbered " (i/n)" when there are several.

        Breaks at sentence ends first, then between words, and inside a word only when one
        word is longer than a whole post. ``tail`` (a disclosure) is kept whole, after a
        blank line, at the end of the last part; ``ValueError`` if it cannot fit in one post.
        """
        text = text.strip()
        tail = tail.strip()
        whole = f"{text}\n\n{tail}" if text and tail else text or tail
        if self.fits(whole):
            return [whole]
        if not self.supports_threads:
            return [whole]
        reserve = 9
        while True:
            probe = f" ({reserve}/{reserve})"
            parts = self._pack(text, tail, probe)
            if len(parts) <= reserve:
                break
            reserve = reserve * 10 + 9
        total = len(parts)
        return [f"{part} ({index}/{total})" for index, part in enumerate(parts, start=1)]

    def _pack(self, text: str, tail: str, probe: str) -> list[str]:
        parts: list[str] = []
        current = ""

        def ok(candidate: str) -> bool:
            return self.fits(candidate + probe)

        for separator, sentence in _sentences(text):
            candidate = current + separator + sentence if current else sentence
            if ok(candidate):
                current = candidate
                continue
            if current and ok(sentence):
                parts.append(current)
                current = sentence
                continue
            for word in sentence.split():
                candidate = f"{current} {word}" if current else word
                if ok(candidate):
                    current = candidate
                    continue
                if current:
                    parts.append(current)
                    current = ""
                while not ok(word):
                    head, word = self._longest_prefix(word, probe)
                    parts.append(head)
                current = word
        if tail:
            if not ok(tail):
                raise ValueError(f"the tail does not fit in one {self.name} post")
            candidate = f"{current}\n\n{tail}" if current else tail
            if ok(candidate):
                current = candidate
            else:
                parts.append(current)
                current = tail
        if current:
            parts.append(current)
        return parts

    def _longest_prefix(self, word: str, probe: str) -> tuple[str, str]:
        clusters = graphemes(word)
        cut = 1
        while cut < len(clusters) and self.fits("".join(clusters[: cut + 1]) + probe):
            cut += 1
        return "".join(clusters[:cut]), "".join(clusters[cut:])


def _sentences(text: str) -> list[tuple[str, str]]:
    """Pairs of (separator before, sentence); separators keep line breaks between sentences."""
    pieces: list[tuple[str, str]] = []
    cursor = 0
    separator = ""
    for match in _SENTENCE_BREAK.finditer(text):
        sentence = text[cursor : match.start()]
        if sentence:
            pieces.append((separator, sentence))
        separator = "\n\n" if match.group(0).count("\n") > 1 else match.group(0).strip(" \t") or " "
        cursor = match.end()
    if text[cursor:]:
        pieces.append((separator, text[cursor:]))
    return pieces


_RULES: dict[str, TextRules] = {
    "x": TextRules("x", 280, "x_weighted", supports_threads=True, link_length=23),
    "mastodon": TextRules("mastodon", 500, "graphemes", supports_threads=True, link_length=23),
    "bluesky": TextRules("bluesky", 300, "graphemes", supports_threads=True, max_bytes=3000),
    "linkedin": TextRules("linkedin", 3000, "utf16", supports_threads=False),
    "telegram": TextRules("telegram", 4096, "utf16", supports_threads=False),
    "discord": TextRules("discord", 2000, "codepoints", supports_threads=False),
    "slack": TextRules("slack", 40_000, "codepoints", supports_threads=False),
    "webhook": TextRules("webhook", 100_000, "codepoints", supports_threads=False),
}
_SANDBOX_DEFAULT = "x"


def rules_for(platform: str) -> TextRules:
    """Rules for ``platform``; "sandbox" and "sandbox:<name>" borrow another platform's rules."""
    key = platform.strip().lower()
    if key == "sandbox" or key.startswith("sandbox:"):
        borrowed = key.partition(":")[2] or _SANDBOX_DEFAULT
        if borrowed not in _RULES:
            raise UnknownPlatformError(platform)
        base = _RULES[borrowed]
        return TextRules(
            name=key,
            max_length=base.max_length,
            counting=base.counting,
            supports_threads=base.supports_threads,
            link_length=base.link_length,
            max_bytes=base.max_bytes,
        )
    try:
        return _RULES[key]
    except KeyError:
        raise UnknownPlatformError(platform) from None
