"""Browser sessions kept on the server: the middleware, starting one at sign-in, ending it.

The cookie carries only a random 256-bit id; the ``user_session`` table holds its SHA-256, the
user, the times and the small ``request.session`` dict (CSRF token, flashes, Authlib's OIDC
state). Every request is checked against the table, so a session can be revoked one by one:
at sign-out, "sign out everywhere", a password change or reset, or when a user is disabled.

Sessions end after ``session_idle_seconds`` without a request and ``session_max_age_seconds``
after they began, whichever comes first. Signing in always issues a new id (no fixation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finagency.auth import session_store
from finagency.auth.session_store import Lifetimes
from finagency.config import Settings
from finagency.core.crypto import new_token
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models.brand import User

log = structlog.get_logger(__name__)

SESSION_CSRF = "csrf"
_STATE = "finagency.session"
# A session is written back at most this often when nothing in it changed.
TOUCH_EVERY = timedelta(seconds=60)

# `__Host-` makes browsers insist on Secure, Path=/ and no Domain; it needs HTTPS to be set.
SECURE_COOKIE_NAME = "__Host-session"
PLAIN_COOKIE_NAME = "finagency_session"


def session_cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE_NAME if settings.security.cookie_secure else PLAIN_COOKIE_NAME


def lifetimes(settings: Settings) -> Lifetimes:
    security = settings.security
    return Lifetimes(
        idle=timedelta(seconds=security.session_idle_seconds),
        absolute=timedelta(seconds=security.session_max_age_seconds),
    )


@dataclass
class SessionState:
    """What the middleware knows about this request's session, and what the endpoint asked."""

    loaded: session_store.LoadedSession | None = None
    cookie_present: bool = False
    user_id: int | None = None
    snapshot: str = "{}"
    rotate: bool = False
    ended: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _state(connection: HTTPConnection) -> SessionState | None:
    return cast(SessionState | None, connection.scope.get(_STATE))


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


class ServerSessionMiddleware:
    """Loads ``request.session`` from the table and writes it back before the response starts."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.cookie_name = session_cookie_name(settings)
        self.lifetimes = lifetimes(settings)
        self.always_secure = settings.security.cookie_secure

    def _sessionmaker(self, app: Any, *, read: bool = False) -> async_sessionmaker[AsyncSession]:
        # ``app`` is the outer app, taken when the request enters: a mounted sub-app (the demo's
        # fake platforms) replaces scope["app"] before the response starts.
        services = getattr(app.state, "services", None)
        if services is None:
            raise RuntimeError("server sessions need app.state.services (set in the lifespan)")
        # Lookups use the read-only sessions: on SQLite they never wait for the write lock.
        found = services.read_sessionmaker if read else services.sessionmaker
        return cast(async_sessionmaker[AsyncSession], found)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Static files never need the session: spare them the database read.
        if scope["type"] not in ("http", "websocket") or str(scope.get("path", "")).startswith(
            "/static/"
        ):
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        connection = HTTPConnection(scope)
        raw = connection.cookies.get(self.cookie_name)
        state = SessionState(cookie_present=raw is not None)
        if raw:
            async with self._sessionmaker(app, read=True)() as db:
                state.loaded = await session_store.load(db, raw, self.lifetimes)
        if state.loaded is not None:
            scope["session"] = dict(state.loaded.data)
            state.user_id = state.loaded.user_id
        else:
            scope["session"] = {}
        state.snapshot = _dump(scope["session"])
        scope[_STATE] = state

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self._persist(scope, state, app)
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_session)

    async def _persist(self, scope: Scope, state: SessionState, app: Any) -> str | None:
        """Write the session back; the Set-Cookie value to send, if any."""
        data: dict[str, Any] = scope["session"]
        loaded = state.loaded
        now = utcnow()
        sessionmaker = self._sessionmaker(app)
        if state.ended or (not data and not state.rotate):
            if loaded is not None:
                async with transaction(sessionmaker) as db:
                    await session_store.delete_by_hash(db, loaded.id_hash)
            return self._cookie("", scope, clear=True) if state.cookie_present else None
        if state.rotate or loaded is None:
            connection = HTTPConnection(scope)
            async with transaction(sessionmaker) as db:
                if loaded is not None:
                    await session_store.delete_by_hash(db, loaded.id_hash)
                session_id = await session_store.create(
                    db,
                    user_id=state.user_id,
                    data=data,
                    lifetimes=self.lifetimes,
                    ip=connection.client.host if connection.client else "",
                    user_agent=connection.headers.get("user-agent", ""),
                    now=now,
                )
            return self._cookie(session_id, scope)
        changed = _dump(data) != state.snapshot
        if changed or now - loaded.last_seen_at >= TOUCH_EVERY:
            async with transaction(sessionmaker) as db:
                alive = await session_store.save(
                    db, loaded.id_hash, data if changed else None, now=now
                )
            if not alive:
                # Revoked while this request ran (e.g. the password just changed).
                return self._cookie("", scope, clear=True)
        return None

    def _cookie(self, value: str, scope: Scope, *, clear: bool = False) -> str:
        parts = [f"{self.cookie_name}={value}", "path=/"]
        if clear:
            parts += ["expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0"]
        else:
            parts.append(f"Max-Age={int(self.lifetimes.absolute.total_seconds())}")
        parts += ["httponly", "samesite=lax"]
        if self.always_secure or scope.get("scheme") in ("https", "wss"):
            parts.append("secure")
        return "; ".join(parts)


def install_session_middleware(app: Starlette, settings: Settings) -> None:
    """Add the server-side session middleware configured from ``settings.security``."""
    app.add_middleware(ServerSessionMiddleware, settings=settings)


def start_session(connection: HTTPConnection, user: User) -> None:
    """Sign ``user`` in: a new session id and CSRF token; the pre-login session is destroyed."""
    state = _state(connection)
    if state is None:
        raise RuntimeError("install_session_middleware(app, settings) is missing")
    connection.session.clear()
    connection.session[SESSION_CSRF] = new_token(32)
    state.user_id = user.id
    state.rotate = True
    state.ended = False


def end_session(connection: HTTPConnection) -> None:
    """Sign out: the row is deleted and the browser told to drop the cookie."""
    if "session" in connection.scope:
        connection.session.clear()
    state = _state(connection)
    if state is not None:
        state.ended = True
        state.rotate = False
        state.user_id = None


def session_user_id(connection: HTTPConnection) -> int | None:
    """The signed-in user's id from the server-side session, or None."""
    state = _state(connection)
    if state is None or state.ended:
        return None
    return state.user_id


def current_session_hash(connection: HTTPConnection) -> str | None:
    """The stored hash of this request's session (to keep it when revoking the others)."""
    state = _state(connection)
    return state.loaded.id_hash if state is not None and state.loaded is not None else None


def session_is_current(connection: HTTPConnection, user: User, max_age_seconds: int = 0) -> bool:
    """Whether the session still speaks for ``user``; lifetimes were checked when it loaded."""
    return user.active and session_user_id(connection) == user.id
