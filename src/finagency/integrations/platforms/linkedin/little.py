"""LinkedIn's "little" text format: escaping reserved characters, and recognising a post's text.

``commentary`` is parsed as little text, where ``\\ | { } @ [ ] ( ) < > # * _ ~`` have meaning
(mentions, hashtags, templates). An unescaped one can silently cut the post short while the API
still answers 201, so every reserved character is backslash-escaped. We write no mentions or
hashtag markup, so escaping everything is always right for our text.
"""

from __future__ import annotations

import re
import unicodedata

RESERVED = frozenset("\\|{}@[]()<>#*_~")
_ESCAPED = re.compile(r"\\([\\|{}@\[\]()<>#*_~])")
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def escape_little(text: str) -> str:
    """``text`` with every reserved character backslash-escaped (backslash included)."""
    return "".join(f"\\{char}" if char in RESERVED else char for char in text)


def unescape_little(text: str) -> str:
    """The plain text of little-format ``commentary`` as read back."""
    return _ESCAPED.sub(r"\1", text)


def normalize_text(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def same_post(remote_text: str, text: str) -> bool:
    """Is the (unescaped) commentary read back the text we posted (a link we appended aside)?"""
    wanted, remote = normalize_text(text), normalize_text(remote_text)
    if wanted and remote == wanted:
        return True
    wanted = normalize_text(_URL.sub(" ", wanted))
    return bool(wanted) and normalize_text(_URL.sub(" ", remote)) == wanted
