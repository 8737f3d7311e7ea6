"""FastAPI dependencies at the request edge: database sessions, the caller, permissions, limits.

These raise NotAuthenticated/Forbidden/NotFound/RateLimited and nothing else; turning a 401 into
a redirect to the sign-in page for HTML requests is the web layer's job.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, cast

import structlog
from fastapi import Depends
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from finagency.auth import service
from finagency.auth.permissions import check_permission_name
from finagency.auth.ratelimit import LoginRateLimiter
from finagency.auth.sessions import end_session, session_is_current, session_user_id
from finagency.core.db import transaction
from finagency.core.errors import (
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from finagency.core.services import Services
from finagency.models.brand import ApiToken, User

log = structlog.get_logger(__name__)


def get_services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A write session for one request: commit on success, roll back on any error.

    Use it through ``DbSession`` (scope="function"), so the commit happens before the response
    is sent and a failed commit becomes an error response rather than a silent loss.
    """
    async with get_services(request).sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session for pages and lookups; it is never committed."""
    async with get_services(request).read_sessionmaker() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]


@dataclass(frozen=True)
class CurrentPrincipal:
    """Who is calling, with their roles per brand and, for API calls, the token and its scopes.

    ``scopes`` is None for browser sessions (roles alone decide); for a token both the owner's
    roles and the token's scopes must allow an action, and a brand-bound token sees one brand.
    """

    user: User
    roles_by_brand: dict[int, set[str]] = field(default_factory=dict)
    via_token: ApiToken | None = None
    scopes: frozenset[str] | None = None

    @property
    def brand_ids(self) -> frozenset[int]:
        return frozenset(self.roles_by_brand)

    def can_see(self, brand_id: int) -> bool:
        if self.via_token is not None and self.via_token.brand_id not in (None, brand_id):
            return False
        # roles_for lists every existing brand for agency admins, so unknown ids stay unseen.
        return brand_id in self.roles_by_brand

    def can(self, permission: str, brand_id: int | None = None) -> bool:
        if brand_id is not None and not self.can_see(brand_id):
            return False
        if self.scopes is not None and permission not in self.scopes:
            return False
        return service.has_permission(self.user, self.roles_by_brand, brand_id, permission)


def _bearer_credentials(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise NotAuthenticated("Authorization header must be 'Bearer <API token>'")
    return credentials.strip()


async def _principal_from_token(
    request: Request, session: AsyncSession, plaintext: str
) -> CurrentPrincipal:
    user, token = await service.resolve_api_token(session, plaintext)
    if service.api_token_use_is_stale(token):
        try:
            async with transaction(get_services(request).sessionmaker) as writer:
                await service.record_api_token_use(writer, token.id)
        except SQLAlchemyError:
            # Best effort: a busy database must not turn a valid call into an error.
            log.warning("auth.api_token_touch_failed", credential_id=token.id)
    roles = await service.roles_for(session, user)
    if token.brand_id is not None:
        roles = {token.brand_id: roles[token.brand_id]} if token.brand_id in roles else {}
    return CurrentPrincipal(user, roles, via_token=token, scopes=frozenset(token.scopes))


async def current_principal(request: Request, session: ReadSession) -> CurrentPrincipal:
    """The caller from ``Authorization: Bearer`` or else the session cookie; NotAuthenticated."""
    plaintext = _bearer_credentials(request)
    if plaintext is not None:
        # A request that presents a token is judged on it alone, never on cookies.
        return await _principal_from_token(request, session, plaintext)
    user_id = session_user_id(request)
    if user_id is None:
        raise NotAuthenticated("sign in to continue")
    user = await session.get(User, user_id)
    max_age = get_services(request).settings.security.session_max_age_seconds
    if user is None or not session_is_current(request, user, max_age):
        end_session(request)
        raise NotAuthenticated("your session has ended; sign in again")
    return CurrentPrincipal(user, await service.roles_for(session, user))


Principal = Annotated[CurrentPrincipal, Depends(current_principal)]


async def current_user(principal: Principal) -> User:
    """The signed-in user (browser session or API token); NotAuthenticated otherwise."""
    return principal.user


async def optional_user(request: Request, session: ReadSession) -> User | None:
    """The signed-in user, or None for anonymous callers; a bad API token still raises."""
    if _bearer_credentials(request) is None and session_user_id(request) is None:
        return None
    try:
        return (await current_principal(request, session)).user
    except NotAuthenticated:
        if _bearer_credentials(request) is not None:
            raise
        return None


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def brand_id_from(request: Request) -> int | None:
    """The brand a request is about: the ``brand_id`` path parameter, else the query parameter."""
    raw = request.path_params.get("brand_id")
    if raw is None:
        raw = request.query_params.get("brand_id")
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "brand_id must be an integer", details={"field": "brand_id"}
        ) from None


def require(permission: str) -> Callable[[Request, CurrentPrincipal], Awaitable[CurrentPrincipal]]:
    """A dependency that lets the call through only if the caller holds ``permission``.

    The brand comes from the path or query (``brand_id``); without one, any brand will do.
    A brand the caller has no access to answers 404, so brand ids cannot be probed.
    """
    check_permission_name(permission)

    async def dependency(request: Request, principal: Principal) -> CurrentPrincipal:
        brand_id = brand_id_from(request)
        if brand_id is not None and not principal.can_see(brand_id):
            log.info("auth.denied", user_id=principal.user.id, brand_id=brand_id, reason="brand")
            raise NotFound("brand not found")
        if not principal.can(permission, brand_id):
            log.info(
                "auth.denied", user_id=principal.user.id, brand_id=brand_id, permission=permission
            )
            raise Forbidden(f"you do not have the {permission!r} permission here")
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def client_ip(request: Request) -> str:
    """The peer address as Uvicorn reports it (run it with --forwarded-allow-ips behind a proxy)."""
    return request.client.host if request.client else "unknown"


def enforce_login_rate_limit(request: Request, email: str) -> None:
    """Count a sign-in attempt for (client IP, email); RateLimited when over the limit."""
    limiter = cast(LoginRateLimiter | None, getattr(request.app.state, "login_limiter", None))
    if limiter is None:
        raise RuntimeError("install_login_limiter(app, settings) must run when the app is built")
    wait = limiter.hit(client_ip(request), email)
    if wait > 0:
        log.warning("auth.login_rate_limited", client_ip=client_ip(request))
        raise RateLimited(
            f"too many sign-in attempts; try again in {math.ceil(wait)} seconds",
            details={"retry_after": math.ceil(wait)},
        )


def reset_login_rate_limit(request: Request, email: str) -> None:
    """Forget the attempts for (client IP, email) after a successful sign-in."""
    limiter = cast(LoginRateLimiter | None, getattr(request.app.state, "login_limiter", None))
    if limiter is not None:
        limiter.reset(client_ip(request), email)
