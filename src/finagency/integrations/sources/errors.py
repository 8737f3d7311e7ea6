"""Errors raised when a source answers with something we cannot read.

PermanentExternalError (core.errors)
└── MalformedPayloadError ("malformed_payload")   JSON/XML that is not the documented shape
    └── MalformedFeedError ("malformed_feed")      RSS/Atom that is not a feed
"""

from __future__ import annotations

from finagency.core.errors import PermanentExternalError


class MalformedPayloadError(PermanentExternalError):
    """The body is not the shape the source documents; retrying will not fix it."""

    code = "malformed_payload"


class MalformedFeedError(MalformedPayloadError):
    """The body is not a readable RSS or Atom feed (empty, HTML, broken XML)."""

    code = "malformed_feed"
