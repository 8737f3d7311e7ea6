"""Settings: brands and time slots, users and roles, rule packs, webhooks, API tokens, sessions.

Every change is a CSRF-protected form post, authorised per brand (``settings.manage`` on the
brand in the path; agency-wide changes need an agency admin) and written to the audit trail.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Form
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.audit import service as audit
from finagency.auth import service as auth
from finagency.auth import session_store, users
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    CurrentPrincipal,
    DbSession,
    ReadSession,
    get_services,
    require,
)
from finagency.auth.passwords import verify_password
from finagency.auth.permissions import ROLES, SETTINGS_MANAGE
from finagency.auth.sessions import current_session_hash, lifetimes
from finagency.auth.tokens import SCOPES, permissions_for_scopes, scopes_of
from finagency.brands import service as brands
from finagency.brands import slots as time_slots
from finagency.checks.rulepacks import RulePackError, parse_rule_pack
from finagency.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.integrations.platforms.textrules import PLATFORMS
from finagency.models import ApiToken, Brand, User
from finagency.web.deps import PageViewer, Viewer
from finagency.web.templating import flash, render
from finagency.webhooks import service as webhooks
from finagency.webhooks.events import ALL_EVENTS, EVENTS

router = APIRouter()
Csrf = [Depends(csrf_protect)]
BrandAdmin = Annotated[CurrentPrincipal, Depends(require(SETTINGS_MANAGE))]
ROLE_LABELS = {
    "admin": "brand admin",
    "editor": "editor",
    "approver": "approver",
    "client": "client viewer",
    "operator": "operator",
}
SECTIONS = (
    ("/settings/brands", "Brands"),
    ("/settings/users", "Users and roles"),
    ("/settings/rules", "Rule packs"),
    ("/settings/webhooks", "Webhooks"),
    ("/settings/tokens", "API tokens"),
    ("/settings/account", "Your account"),
)


def _managed(viewer: Viewer) -> list[Brand]:
    return [brand for brand in viewer.brands if viewer.can(SETTINGS_MANAGE, brand.id)]


def _page(
    request: Request, viewer: Viewer, template: str, section: str, **context: Any
) -> Response:
    values: dict[str, Any] = {
        "page_title": f"Settings · {section}",
        "active": "/settings",
        "sections": SECTIONS,
        "section": section,
        "managed": _managed(viewer),
        "is_agency_admin": viewer.user.is_admin and viewer.principal.via_token is None,
        "role_labels": ROLE_LABELS,
    }
    status_code = int(context.pop("status_code", 200))
    values.update(context)
    return render(request, template, values, status_code=status_code)


async def _record(
    session: DbSession,
    principal: CurrentPrincipal,
    action: str,
    object_type: str,
    object_id: object,
    brand_id: int | None = None,
    **data: Any,
) -> None:
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action=action,
        object_type=object_type,
        object_id=object_id,
        brand_id=brand_id,
        data=data,
    )


def _back(path: str, message: str, kind: str, request: Request) -> Response:
    flash(request, message, kind)
    return RedirectResponse(path, status_code=303)


def _agency_admin(principal: CurrentPrincipal) -> None:
    if not principal.user.is_admin or principal.via_token is not None:
        raise Forbidden("only an agency admin can do this")


@router.get("/settings")
async def settings_home(viewer: PageViewer) -> Response:
    first = "/settings/brands" if _managed(viewer) else "/settings/account"
    return RedirectResponse(first, status_code=303)


# Brands and time slots.


@router.get("/settings/brands")
async def brands_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    managed = _managed(viewer)
    slots = {brand.id: await time_slots.list_slots(session, brand.id) for brand in managed}
    by_platform: dict[int, dict[str, str]] = {}
    for brand_id, rows in slots.items():
        grouped: dict[str, list[str]] = {}
        for slot in rows:
            grouped.setdefault(slot.platform, []).append(time_slots.format_slot(slot))
        by_platform[brand_id] = {name: ", ".join(texts) for name, texts in grouped.items()}
    return _page(
        request,
        viewer,
        "settings_brands.html",
        "Brands",
        slots=by_platform,
        platforms=PLATFORMS,
    )


@router.post("/settings/brands", dependencies=Csrf)
async def create_brand(
    request: Request,
    session: DbSession,
    viewer: PageViewer,
    name: Annotated[str, Form(max_length=200)],
    slug: Annotated[str, Form(max_length=63)],
) -> Response:
    _agency_admin(viewer.principal)
    try:
        async with session.begin_nested():
            brand = await brands.create_brand(session, slug=slug.strip().lower(), name=name.strip())
    except AppError as error:
        return _back("/settings/brands", error.message, "error", request)
    await _record(
        session, viewer.principal, "brand.created", "brand", brand.id, brand.id, slug=brand.slug
    )
    return _back("/settings/brands", f"Brand {brand.name} created.", "success", request)


@router.post("/settings/brands/{brand_id}", dependencies=Csrf)
async def update_brand(
    request: Request,
    brand_id: int,
    session: DbSession,
    principal: BrandAdmin,
    name: Annotated[str, Form(max_length=200)],
    regime: Annotated[str, Form(max_length=40)],
    timezone: Annotated[str, Form(max_length=64)],
    maker_checker: Annotated[bool, Form()] = False,
) -> Response:
    brand = await brands.get_brand(session, brand_id)
    try:
        async with session.begin_nested():
            changes = await brands.update_brand(
                session,
                brand,
                name=name,
                regime=regime,
                timezone=timezone,
                maker_checker=maker_checker,
            )
    except AppError as error:
        return _back("/settings/brands", error.message, "error", request)
    if changes:
        await _record(
            session,
            principal,
            "brand.updated",
            "brand",
            brand_id,
            brand_id,
            changes={k: [str(old), str(new)] for k, (old, new) in changes.items()},
        )
    return _back("/settings/brands", f"{brand.name} saved.", "success", request)


@router.post("/settings/brands/{brand_id}/slots", dependencies=Csrf)
async def set_slots(
    request: Request,
    brand_id: int,
    session: DbSession,
    principal: BrandAdmin,
    platform: Annotated[str, Form(max_length=40)],
    slots: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        async with session.begin_nested():
            saved = await time_slots.replace_slots(
                session, brand_id, platform, slots.replace("\n", ",").split(",")
            )
    except AppError as error:
        return _back("/settings/brands", error.message, "error", request)
    texts = [time_slots.format_slot(slot) for slot in saved]
    await _record(
        session,
        principal,
        "brand.slots_set",
        "brand",
        brand_id,
        brand_id,
        platform=platform.strip().lower(),
        slots=texts,
    )
    message = f"Time slots for {platform.strip().lower()}: {', '.join(texts) or 'none'}."
    return _back("/settings/brands", message, "success", request)


# Users and roles.


def _scope_of(viewer: Viewer) -> list[int] | None:
    return (
        None
        if viewer.user.is_admin and viewer.principal.via_token is None
        else [brand.id for brand in _managed(viewer)]
    )


@router.get("/settings/users")
async def users_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    scope = _scope_of(viewer)
    rows = await users.list_users(session, scope) if scope != [] else []
    return _page(
        request,
        viewer,
        "settings_users.html",
        "Users and roles",
        rows=rows,
        roles=sorted(ROLES),
        brand_names={brand.id: brand.name for brand in viewer.brands},
    )


@router.post("/settings/brands/{brand_id}/users", dependencies=Csrf)
async def create_user(
    request: Request,
    brand_id: int,
    session: DbSession,
    principal: BrandAdmin,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create a user with a role on this brand; they sign in with the password given here."""
    try:
        async with session.begin_nested():
            user = await auth.create_user(session, email, password, name=name)
            await users.set_brand_role(session, user.id, brand_id, role)
    except AppError as error:
        return _back("/settings/users", error.message, "error", request)
    await _record(
        session, principal, "user.created", "user", user.id, brand_id, email=user.email, role=role
    )
    return _back(
        "/settings/users",
        f"{user.email} can now sign in as {ROLE_LABELS.get(role, role)}.",
        "success",
        request,
    )


@router.post("/settings/users/{user_id}/role", dependencies=Csrf)
async def change_role(
    request: Request,
    user_id: int,
    session: DbSession,
    viewer: PageViewer,
    brand_id: Annotated[int, Form()],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    """Set the user's one role on a brand ("none" removes them from the brand)."""
    principal = viewer.principal
    if not principal.can_see(brand_id):
        raise NotFound("brand not found")
    if not principal.can(SETTINGS_MANAGE, brand_id):
        raise Forbidden("you do not administer this brand")
    target = await session.get(User, user_id)
    roles_held = await auth.roles_for(session, target) if target is not None else {}
    managed = {b for b in principal.brand_ids if principal.can(SETTINGS_MANAGE, b)}
    # A brand admin acts only on people of brands they manage; others stay invisible (404).
    if target is None or (
        not (principal.user.is_admin and principal.via_token is None)
        and (target.is_admin or not (set(roles_held) & managed))
    ):
        raise NotFound("user not found")
    wanted = None if role == "none" else role
    try:
        async with session.begin_nested():
            await users.set_brand_role(session, user_id, brand_id, wanted)
    except AppError as error:
        return _back("/settings/users", error.message, "error", request)
    before = sorted(roles_held.get(brand_id, set()))
    await _record(
        session,
        principal,
        "user.role_changed",
        "user",
        user_id,
        brand_id,
        before=before,
        after=wanted,
    )
    label = ROLE_LABELS.get(role, "no role") if wanted else "no role"
    return _back(
        "/settings/users", f"{target.email} now has {label} on this brand.", "success", request
    )


@router.post("/settings/users/{user_id}/active", dependencies=Csrf)
async def set_active(
    request: Request,
    user_id: int,
    session: DbSession,
    viewer: PageViewer,
    active: Annotated[bool, Form()] = False,
) -> Response:
    """Deactivate (ending their sessions and API tokens) or reactivate; agency admins only."""
    _agency_admin(viewer.principal)
    if user_id == viewer.user.id and not active:
        return _back("/settings/users", "You cannot deactivate yourself.", "error", request)
    target = await users.get_user(session, user_id)
    try:
        async with session.begin_nested():
            await users.set_active(session, target, active)
    except AppError as error:
        return _back("/settings/users", error.message, "error", request)
    await _record(
        session,
        viewer.principal,
        "user.activated" if active else "user.deactivated",
        "user",
        user_id,
    )
    state = "active again" if active else "deactivated; their sessions and API tokens ended"
    return _back("/settings/users", f"{target.email} is {state}.", "success", request)


# Rule packs.


@router.get("/settings/rules")
async def rules_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    packs = {
        brand.id: await brands.get_rule_pack_text(session, brand.id) for brand in _managed(viewer)
    }
    return _page(request, viewer, "settings_rules.html", "Rule packs", packs=packs, problems={})


@router.post("/settings/brands/{brand_id}/rules", dependencies=Csrf)
async def save_rules(
    request: Request,
    brand_id: int,
    session: DbSession,
    viewer: PageViewer,
    principal: BrandAdmin,
    rule_pack: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Validate with the checks' own loader; on errors show them next to the text, save nothing."""
    problems: list[str] = []
    if rule_pack.strip():
        try:
            parse_rule_pack(yaml.safe_load(rule_pack), f"brand {brand_id} rule pack")
        except yaml.YAMLError as error:
            problems = [f"not valid YAML: {error}"]
        except RulePackError as error:
            problems = [str(p) for p in error.details.get("problems", [])] or [error.message]
    if problems:
        packs = {
            brand.id: await brands.get_rule_pack_text(session, brand.id)
            for brand in _managed(viewer)
        }
        packs[brand_id] = rule_pack
        return _page(
            request,
            viewer,
            "settings_rules.html",
            "Rule packs",
            packs=packs,
            problems={brand_id: problems},
            status_code=422,
        )
    await brands.save_rule_pack_text(session, brand_id, rule_pack)
    await _record(
        session,
        principal,
        "brand.rule_pack_saved",
        "brand",
        brand_id,
        brand_id,
        size=len(rule_pack),
    )
    return _back("/settings/rules", "Rule pack saved.", "success", request)


# Webhooks (endpoints only; deliveries are the webhooks domain's).


@router.get("/settings/webhooks")
async def webhooks_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    managed_ids = [brand.id for brand in _managed(viewer)]
    endpoints = await brands.list_webhook_endpoints(session, managed_ids)
    return _page(
        request,
        viewer,
        "settings_webhooks.html",
        "Webhooks",
        endpoints=endpoints,
        events=sorted(EVENTS),
        all_events=ALL_EVENTS,
        secret=None,
    )


@router.post("/settings/brands/{brand_id}/webhooks", dependencies=Csrf)
async def add_webhook(
    request: Request,
    brand_id: int,
    session: DbSession,
    viewer: PageViewer,
    principal: BrandAdmin,
    url: Annotated[str, Form(max_length=2000)],
    events: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    description: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    box = get_services(request).secret_box
    if box is None:
        return _back(
            "/settings/webhooks",
            "Set FINAGENCY_SECRET_KEY first: webhook secrets are stored encrypted.",
            "error",
            request,
        )
    try:
        async with session.begin_nested():
            endpoint, secret = await webhooks.create_endpoint(
                session, box, brand_id=brand_id, url=url, events=events, description=description
            )
    except AppError as error:
        return _back("/settings/webhooks", error.message, "error", request)
    await _record(
        session,
        principal,
        "webhook.created",
        "webhook_endpoint",
        endpoint.id,
        brand_id,
        url=endpoint.url,
        events=endpoint.events,
    )
    managed_ids = [brand.id for brand in _managed(viewer)]
    return _page(
        request,
        viewer,
        "settings_webhooks.html",
        "Webhooks",
        endpoints=await brands.list_webhook_endpoints(session, managed_ids),
        events=sorted(EVENTS),
        all_events=ALL_EVENTS,
        secret=(endpoint, secret),
    )


@router.post("/settings/brands/{brand_id}/webhooks/{endpoint_id}/delete", dependencies=Csrf)
async def remove_webhook(
    request: Request, brand_id: int, endpoint_id: int, session: DbSession, principal: BrandAdmin
) -> Response:
    endpoint = await brands.delete_webhook_endpoint(session, endpoint_id, [brand_id])
    await _record(
        session,
        principal,
        "webhook.deleted",
        "webhook_endpoint",
        endpoint_id,
        brand_id,
        url=endpoint.url,
    )
    return _back("/settings/webhooks", "Webhook endpoint removed.", "success", request)


# API tokens (the signed-in user's own; an agency admin sees and may revoke everyone's).


async def _tokens(session: ReadSession | DbSession, viewer: Viewer) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    if not viewer.user.is_admin:
        query = query.where(ApiToken.user_id == viewer.user.id)
    return list((await session.execute(query)).scalars())


def _tokens_page(
    request: Request,
    viewer: Viewer,
    tokens: list[ApiToken],
    new_token: tuple[ApiToken, str] | None = None,
) -> Response:
    return _page(
        request,
        viewer,
        "settings_tokens.html",
        "API tokens",
        tokens=tokens,
        scopes=sorted(SCOPES),
        scopes_of=scopes_of,
        new_token=new_token,
    )


@router.get("/settings/tokens")
async def tokens_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    return _tokens_page(request, viewer, await _tokens(session, viewer))


@router.post("/settings/tokens", dependencies=Csrf)
async def create_token(
    request: Request,
    session: DbSession,
    viewer: PageViewer,
    name: Annotated[str, Form(max_length=100)],
    scopes: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    brand_id: Annotated[str, Form(max_length=20)] = "",
    expires_days: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Issue a token; its plaintext is in this one response and never stored or shown again."""
    if viewer.principal.via_token is not None:
        raise Forbidden("API tokens cannot create API tokens")
    try:
        bound = int(brand_id) if brand_id.strip() else None
        days = int(expires_days) if expires_days.strip() else None
        if days is not None and not 1 <= days <= 3650:
            raise ValidationFailed(
                "expiry must be 1 to 3650 days", details={"field": "expires_days"}
            )
        async with session.begin_nested():
            token, plaintext = await auth.create_api_token(
                session,
                viewer.user,
                name,
                permissions_for_scopes(scopes),
                brand_id=bound,
                expires_at=utcnow() + timedelta(days=days) if days else None,
            )
    except ValueError:
        return _back("/settings/tokens", "Brand and expiry must be numbers.", "error", request)
    except AppError as error:
        return _back("/settings/tokens", error.message, "error", request)
    await _record(
        session,
        viewer.principal,
        "api_token.created",
        "api_token",
        token.id,
        bound,
        name=token.name,
        scopes=token.scopes,
    )
    return _tokens_page(
        request, viewer, await _tokens(session, viewer), new_token=(token, plaintext)
    )


@router.post("/settings/tokens/{token_id}/revoke", dependencies=Csrf)
async def revoke_token(
    request: Request, token_id: int, session: DbSession, viewer: PageViewer
) -> Response:
    await auth.revoke_api_token(session, viewer.user, token_id)
    await _record(session, viewer.principal, "api_token.revoked", "api_token", token_id)
    return _back("/settings/tokens", "API token revoked.", "success", request)


# The signed-in user's own account: password and sessions.


@router.get("/settings/account")
async def account_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    settings = get_services(request).settings
    sessions = await session_store.list_user_sessions(session, viewer.user.id, lifetimes(settings))
    return _page(
        request,
        viewer,
        "settings_account.html",
        "Your account",
        sessions=sessions,
        current_hash=current_session_hash(request),
        idle_minutes=settings.security.session_idle_seconds // 60,
        max_hours=settings.security.session_max_age_seconds // 3600,
    )


@router.post("/settings/account/sessions/{session_id}/revoke", dependencies=Csrf)
async def revoke_session(
    request: Request, session_id: int, session: DbSession, viewer: PageViewer
) -> Response:
    if not await session_store.revoke_session(session, viewer.user.id, session_id):
        raise NotFound("session not found")
    await _record(session, viewer.principal, "auth.session_revoked", "user_session", session_id)
    return _back("/settings/account", "That session is signed out.", "success", request)


@router.post("/settings/account/password", dependencies=Csrf)
async def change_password(
    request: Request,
    session: DbSession,
    viewer: PageViewer,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Needs the current password; every other session of the user ends."""
    user = await users.get_user(session, viewer.user.id)
    if not verify_password(user.password_hash, current_password).ok:
        return _back("/settings/account", "The current password is not right.", "error", request)
    try:
        async with session.begin_nested():
            ended = await auth.set_password(
                session, user, new_password, keep_session_hash=current_session_hash(request)
            )
    except AppError as error:
        return _back("/settings/account", error.message, "error", request)
    await _record(
        session, viewer.principal, "auth.password_changed", "user", user.id, sessions_ended=ended
    )
    return _back(
        "/settings/account",
        f"Password changed; {ended} other session(s) signed out.",
        "success",
        request,
    )
