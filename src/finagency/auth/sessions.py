"""Browser sessions in a signed cookie: the middleware, starting one at login, ending it at logout.

The cookie (Starlette's SessionMiddleware, signed with itsdangerous) is readable by its holder,
so it carries no secrets and nothing the server must trust beyond the signature:

    user_id   who signed in
    csrf      the synchronizer token for forms and fetch calls (see csrf.py)
    auth_at   when they signed in (Unix seconds), for the absolute lifetime
    epoch     a fingerprint of the user's password hash: a password change ends every session

A signed cookie cannot be revoked on the server one by one; disabling the user, changing the
password or the secret key ends sessions. Server-side sessions are the planned replacement.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import structlog
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection

from finagency.config import Settings
from finagency.core.crypto import new_token
from finagency.models.brand import User

log = structlog.get_logger(__name__)

SESSION_USER_ID = "user_id"
SESSION_CSRF = "csrf"
SESSION_AUTH_AT = "auth_at"
SESSION_EPOCH = "epoch"

# `__Host-` makes browsers insist on Secure, Path=/ and no Domain; it needs HTTPS to be set.
SECURE_COOKIE_NAME = "__Host-session"
PLAIN_COOKIE_NAME = "finagency_session"


def session_cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE_NAME if settings.security.cookie_secure else PLAIN_COOKIE_NAME


def session_signing_key(settings: Settings) -> str:
    """A key derived from the configured secret, kept apart from the credential encryption key.

    With no secret configured, a random per-process key is used: sessions then end at restart
    and are not shared between processes, which is announced once as a warning.
    """
    secret = settings.effective_secret_key
    if not secret:
        log.warning(
            "auth.session_key_ephemeral",
            hint="FINAGENCY_SECRET_KEY is not set; sessions end when this process restarts",
        )
        return secrets.token_hex(32)
    return hmac.new(secret.encode(), b"finagency-session-cookie", hashlib.sha256).hexdigest()


def install_session_middleware(app: Starlette, settings: Settings) -> None:
    """Add the signed-cookie session middleware configured from ``settings.security``."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_signing_key(settings),
        session_cookie=session_cookie_name(settings),
        max_age=settings.security.session_max_age_seconds,
        path="/",
        same_site="lax",
        https_only=settings.security.cookie_secure,
    )


def auth_epoch(user: User) -> str:
    """Changes whenever the password hash does, so old cookies stop matching."""
    digest = hashlib.blake2b(user.password_hash.encode(), digest_size=12, person=b"finagency-epoch")
    return digest.hexdigest()


def start_session(connection: HTTPConnection, user: User) -> None:
    """Sign ``user`` in: drop whatever the cookie held (fixation) and issue a fresh CSRF token."""
    session = connection.session
    session.clear()
    session[SESSION_USER_ID] = user.id
    session[SESSION_CSRF] = new_token(32)
    session[SESSION_AUTH_AT] = int(time.time())
    session[SESSION_EPOCH] = auth_epoch(user)


def end_session(connection: HTTPConnection) -> None:
    """Sign out: the cookie is emptied and the browser told to delete it."""
    connection.session.clear()


def session_user_id(connection: HTTPConnection) -> int | None:
    """The signed-in user's id from the cookie, or None (no claim about its validity yet)."""
    if "session" not in connection.scope:
        return None
    value = connection.session.get(SESSION_USER_ID)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def session_is_current(connection: HTTPConnection, user: User, max_age_seconds: int) -> bool:
    """Whether the cookie still speaks for ``user``: active, same password, within its lifetime."""
    session = connection.session
    auth_at = session.get(SESSION_AUTH_AT)
    epoch = session.get(SESSION_EPOCH)
    if not isinstance(auth_at, int) or not isinstance(epoch, str):
        return False
    if time.time() - auth_at > max_age_seconds:
        return False
    return user.active and hmac.compare_digest(epoch, auth_epoch(user))
