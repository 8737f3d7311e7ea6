"""The platform-fit check: not empty, fits as the platform counts it, links on the allow-list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from finagency.checks.types import Finding, excerpt_of
from finagency.integrations.platforms.textrules import UnknownPlatformError, rules_for

CHECK_ID = "platform_fit"

# Bare domains only for common TLDs: "Inc." or "BRK.B" must not read as links.
_LINK = re.compile(
    r"https?://[^\s<>\"]+"
    r"|(?<![@\w.$/])(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|org|net|io|co|ai|gov|edu|info|biz|me|us|uk|eu|de|fr|app|dev|news|finance|ly|gl)\b"
    r"(?:/[^\s<>\"]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"”’)"


def links(text: str) -> list[tuple[tuple[int, int], str]]:
    """Every link in ``text`` with its span and lower-case host."""
    found = []
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        span = (match.start(), match.start() + len(url))
        with_scheme = url if "://" in url else f"https://{url}"
        host = (urlsplit(with_scheme).hostname or "").lower().rstrip(".")
        found.append((span, host.removeprefix("www.")))
    return found


def host_allowed(host: str, allowlist: Sequence[str]) -> bool:
    """A host is allowed when it is an allow-listed domain or one of its subdomains."""
    for domain in allowlist:
        domain = domain.strip().lower().removeprefix("www.").rstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def check_platform_fit(
    text: str, platform: str, link_allowlist: Sequence[str] = (), *, allow_threads: bool = True
) -> list[Finding]:
    """Empty text blocks; text too long blocks unless it can go out as a thread (info then).

    ``allow_threads=False`` is for regimes where every post must stand on its own (FCA FG24/1):
    a thread would separate claims from their risk warning, so too long blocks there too.
    """
    if not text.strip():
        return [Finding(CHECK_ID, "block", "empty", "the text is empty", None, "")]
    findings: list[Finding] = []
    try:
        rules = rules_for(platform)
    except UnknownPlatformError as error:
        return [Finding(CHECK_ID, "block", "unknown_platform", str(error), None, "")]
    if not rules.fits(text):
        length = rules.count(text)
        if rules.supports_threads and allow_threads:
            parts = len(rules.split_thread(text))
            message = (
                f"{length}/{rules.max_length} on {rules.name}: will post as a thread of {parts}"
            )
            findings.append(Finding(CHECK_ID, "info", "will_thread", message, None, ""))
        else:
            if rules.supports_threads:
                why = "; threads are off because each post must stand on its own"
            else:
                why = f" and {rules.name} has no threads"
            message = f"{length}/{rules.max_length} as {rules.name} counts it{why}"
            findings.append(Finding(CHECK_ID, "block", "too_long", message, None, ""))
    for span, host in links(text):
        if not host_allowed(host, link_allowlist):
            findings.append(
                Finding(
                    CHECK_ID,
                    "review",
                    "link_not_allowed",
                    f"link to {host} is not on the allow-list (a link may count as adoption)",
                    span,
                    excerpt_of(text, span),
                )
            )
    return findings
