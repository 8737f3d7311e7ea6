"""Sign-in, sign-out, first-run setup and OIDC single sign-on pages.

Forms are CSRF-protected; sign-in is rate-limited per (IP, email) and locked per email after
repeated failures; the session id is replaced at every sign-in (password, setup or OIDC).
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Query
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.audit import service as audit
from finagency.auth import service as auth
from finagency.auth import session_store, users
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    DbSession,
    Principal,
    ReadSession,
    enforce_login_rate_limit,
    get_services,
    reset_login_rate_limit,
)
from finagency.auth.lockout import AccountLocked, LockoutPolicy
from finagency.auth.oidc import OidcClient, OidcConfig, OidcError, resolve_user
from finagency.auth.sessions import end_session, start_session
from finagency.brands import service as brands
from finagency.core.errors import AppError, NotAuthenticated, NotFound, RateLimited
from finagency.web.deps import safe_next
from finagency.web.templating import flash, render

log = structlog.get_logger(__name__)
router = APIRouter()
_SETUP_LOCK = 7_305_112_031


def oidc_config(request: Request) -> OidcConfig | None:
    return OidcConfig.from_settings(get_services(request).settings.security)


def oidc_client(request: Request) -> OidcClient | None:
    """The process's client for the configured provider (metadata cached between requests)."""
    config = oidc_config(request)
    if config is None:
        return None
    services = get_services(request)
    client = services.extras.get("oidc_client")
    if not isinstance(client, OidcClient) or client.config != config:
        client = OidcClient(config, services.http)
        services.extras["oidc_client"] = client
    return client


def _login_page(
    request: Request, *, next_path: str, email: str = "", error: str = "", status_code: int = 200
) -> Response:
    config = oidc_config(request)
    context = {
        "page_title": "Sign in",
        "next": next_path,
        "email": email,
        "error": error,
        "sso_name": config.provider_name if config else None,
    }
    return render(request, "login.html", context, status_code=status_code)


@router.get("/login")
async def login_form(
    request: Request,
    session: ReadSession,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    if await users.count_users(session) == 0:
        return RedirectResponse("/setup", status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", dependencies=[Depends(csrf_protect)])
async def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_path = safe_next(next)
    try:
        enforce_login_rate_limit(request, email)
    except RateLimited as error:
        return _login_page(
            request, next_path=next_path, email=email, error=error.message, status_code=429
        )
    policy = LockoutPolicy.from_settings(get_services(request).settings)
    try:
        user = await auth.authenticate(session, email, password, lockout_policy=policy)
    except AccountLocked as error:
        locked_now = bool(error.details.get("locked_now"))
        if locked_now:
            await audit.record(
                session,
                actor="system",
                action="auth.account_locked",
                object_type="login",
                object_id=email.strip().lower()[:254],
                data={"minutes": int(policy.duration.total_seconds() // 60)},
            )
        # The attempt that locks was a wrong password (401); later ones are refused (429).
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error=error.message,
            status_code=401 if locked_now else 429,
        )
    except NotAuthenticated as error:
        return _login_page(
            request, next_path=next_path, email=email, error=error.message, status_code=401
        )
    reset_login_rate_limit(request, email)
    # A fresh session (and CSRF token) at sign-in: a planted pre-login cookie is worth nothing.
    start_session(request, user)
    flash(request, f"Signed in as {user.email}.", "success")
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
async def logout(request: Request) -> Response:
    end_session(request)
    flash(request, "You are signed out.", "info")
    return RedirectResponse("/login", status_code=303)


@router.post("/logout/everywhere", dependencies=[Depends(csrf_protect)])
async def logout_everywhere(request: Request, principal: Principal, session: DbSession) -> Response:
    """End every session of the signed-in user, on every device, this one included."""
    ended = await session_store.revoke_user_sessions(session, principal.user.id)
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action="auth.signed_out_everywhere",
        object_type="user",
        object_id=principal.user.id,
        data={"sessions": ended},
    )
    end_session(request)
    flash(request, f"Signed out of {ended} session(s) on every device.", "info")
    return RedirectResponse("/login", status_code=303)


# First-run setup: only while the database has no user at all.


async def _require_empty(session: ReadSession | DbSession) -> None:
    if await users.count_users(session) > 0:
        raise NotFound("setup is finished")


def _setup_page(
    request: Request, values: dict[str, str], error: str = "", status_code: int = 200
) -> Response:
    context: dict[str, Any] = {"page_title": "Set up finagency", "values": values, "error": error}
    return render(request, "setup.html", context, status_code=status_code)


@router.get("/setup")
async def setup_form(request: Request, session: ReadSession) -> Response:
    await _require_empty(session)
    return _setup_page(request, {"timezone": "UTC"})


@router.post("/setup", dependencies=[Depends(csrf_protect)])
async def setup(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    password_confirm: Annotated[str, Form(max_length=1024)],
    brand_name: Annotated[str, Form(max_length=200)],
    brand_slug: Annotated[str, Form(max_length=63)],
    name: Annotated[str, Form(max_length=200)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    if session.get_bind().dialect.name == "postgresql":
        # Two browsers finishing setup at once: the second one waits here, then finds a user.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK})
    await _require_empty(session)
    values = {
        "email": email,
        "name": name,
        "brand_name": brand_name,
        "brand_slug": brand_slug,
        "timezone": timezone,
    }
    if password != password_confirm:
        return _setup_page(request, values, "The two passwords differ.", 422)
    try:
        async with session.begin_nested():
            user = await auth.create_user(session, email, password, name=name, is_admin=True)
            brand = await brands.create_brand(
                session, slug=brand_slug.strip().lower(), name=brand_name.strip() or brand_slug
            )
            await brands.update_brand(
                session,
                brand,
                name=brand.name,
                regime=brand.regime,
                timezone=timezone,
                maker_checker=True,
            )
    except AppError as error:
        return _setup_page(request, values, error.message, error.status_code)
    await audit.record(
        session,
        actor=f"user:{user.id}",
        action="setup.completed",
        object_type="user",
        object_id=user.id,
        data={"email": user.email, "brand": brand.slug},
    )
    start_session(request, user)
    flash(request, f"Welcome. {user.email} is the agency admin; {brand.name} is ready.", "success")
    return RedirectResponse("/", status_code=303)


# OIDC single sign-on.


def _redirect_uri(request: Request) -> str:
    base = get_services(request).settings.security.public_base_url
    if base:
        return base.rstrip("/") + "/login/oidc/callback"
    return str(request.url_for("oidc_callback"))


@router.get("/login/oidc")
async def oidc_start(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    client = oidc_client(request)
    if client is None:
        raise NotFound("single sign-on is not configured")
    try:
        target = await client.begin(_redirect_uri(request), request.session, safe_next(next))
    except OidcError as error:
        return _login_page(request, next_path=safe_next(next), error=error.message, status_code=502)
    return RedirectResponse(target, status_code=303)


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request, session: DbSession) -> Response:
    client = oidc_client(request)
    if client is None:
        raise NotFound("single sign-on is not configured")
    params = {key: value[:4000] for key, value in request.query_params.items()}
    try:
        identity, next_path = await client.finish(request.session, params)
        async with session.begin_nested():
            user, how = await resolve_user(session, client.config, identity)
    except (OidcError, AppError) as error:
        log.info("auth.oidc_refused", reason=error.message)
        return _login_page(request, next_path="/", error=error.message, status_code=401)
    await audit.record(
        session,
        actor=f"user:{user.id}",
        action=f"auth.oidc_{how}",
        object_type="user",
        object_id=user.id,
        data={"issuer": identity.issuer},
    )
    start_session(request, user)
    flash(request, f"Signed in as {user.email}.", "success")
    return RedirectResponse(safe_next(next_path), status_code=303)
