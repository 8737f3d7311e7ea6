"""CSRF protection: a synchronizer token in the session plus a Fetch-Metadata/Origin check.

Forms carry the token in a hidden ``csrf_token`` field; JavaScript sends it as ``X-CSRF-Token``.
Requests with ``Authorization: Bearer`` skip the token check: browsers cannot attach that header
cross-site without CORS consent, and such requests are never authenticated from cookies.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import structlog
from starlette.requests import Request

from finagency.auth.sessions import SESSION_CSRF
from finagency.core.crypto import new_token
from finagency.core.errors import Forbidden

log = structlog.get_logger(__name__)

CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# "none" is a user typing the URL or following a bookmark; anything cross-site is refused.
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def csrf_token(request: Request) -> str:
    """The session's CSRF token for templates and pages, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = new_token(32)
        request.session[SESSION_CSRF] = token
    return token


def is_bearer_request(request: Request) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())


def _cross_site(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in _ALLOWED_FETCH_SITES
    # Older browsers: fall back to comparing the Origin's host with the one we were asked for.
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc.lower() != request.url.netloc.lower()


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORM_TYPES):
        # Starlette caches the parsed form, so the endpoint's Form fields read it again for free.
        value = (await request.form()).get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def csrf_protect(request: Request) -> None:
    """FastAPI dependency: refuse unsafe cookie-authenticated requests without the session token."""
    if request.method.upper() in SAFE_METHODS or is_bearer_request(request):
        return
    if _cross_site(request):
        log.warning("auth.csrf_failed", reason="cross_site", path=request.url.path)
        raise CsrfFailed("cross-site request refused")
    expected = request.session.get(SESSION_CSRF) if "session" in request.scope else None
    submitted = await _submitted_token(request)
    if (
        not isinstance(expected, str)
        or not expected
        or submitted is None
        or not hmac.compare_digest(submitted.encode(), expected.encode())
    ):
        log.warning("auth.csrf_failed", reason="token", path=request.url.path)
        raise CsrfFailed("CSRF token missing or invalid; reload the page and try again")
