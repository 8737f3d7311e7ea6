"""RSS 2.0 and Atom feeds."""

from finagency.integrations.sources.rss.parser import parse_feed, strip_html

__all__ = ["parse_feed", "strip_html"]
