"""The brands and users API: brands you may see, and users with their per-brand roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import ROLES, SETTINGS_MANAGE, VIEW
from finagency.auth.scope import brand_scope, brands_with
from finagency.core.errors import NotFound, ValidationFailed
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import Brand, Membership, User

router = APIRouter(tags=["brands"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]
Manager = Annotated[CurrentPrincipal, Depends(require(SETTINGS_MANAGE))]


class BrandDetail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    regime: str
    timezone: str
    maker_checker: bool
    disclosure: str
    link_allowlist: list[str]
    auto_approve_kinds: list[str]
    max_lateness_minutes: int
    created_at: datetime


class RoleRead(BaseModel):
    brand_id: int
    role: str


class UserRead(BaseModel):
    id: int
    email: str
    name: str
    is_admin: bool
    active: bool
    last_login_at: datetime | None
    created_at: datetime
    roles: list[RoleRead]


@router.get("/brands/{brand_id}", response_model=BrandDetail, summary="One brand")
async def get_brand(brand_id: int, principal: Viewer, session: ReadSession) -> BrandDetail:
    brand = await session.get(Brand, brand_id)
    if brand is None or not principal.can_see(brand_id):
        raise NotFound("brand not found")
    return BrandDetail.model_validate(brand)


async def _users(
    session: ReadSession, users: list[User], visible: list[int] | None
) -> list[UserRead]:
    ids = [user.id for user in users]
    query = select(Membership).where(Membership.user_id.in_(ids)).order_by(Membership.brand_id)
    if visible is not None:
        query = query.where(Membership.brand_id.in_(visible))
    roles: dict[int, list[RoleRead]] = {}
    for row in await session.scalars(query):
        roles.setdefault(row.user_id, []).append(RoleRead(brand_id=row.brand_id, role=row.role))
    return [
        UserRead(
            id=user.id,
            email=user.email,
            name=user.name,
            is_admin=user.is_admin,
            active=user.active,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
            roles=roles.get(user.id, []),
        )
        for user in users
    ]


@router.get(
    "/users",
    response_model=Page[UserRead],
    summary="Users (agency admins: everyone; brand admins: their brands' members)",
)
async def list_users(
    principal: Manager,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
    active: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="Email or name contains")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[UserRead]:
    if role is not None and role not in ROLES:
        raise ValidationFailed(f"unknown role {role!r}", details={"allowed": sorted(ROLES)})
    visible = brands_with(principal, SETTINGS_MANAGE)
    if brand_id is not None:
        brand_scope(principal, brand_id)
        if visible is not None and brand_id not in visible:
            raise NotFound("brand not found")
        visible = [brand_id]
    query = select(User).order_by(User.id)
    if visible is not None or role is not None:
        members = select(Membership.user_id)
        if visible is not None:
            members = members.where(Membership.brand_id.in_(visible))
        if role is not None:
            members = members.where(Membership.role == role)
        query = query.where(User.id.in_(members))
    if active is not None:
        query = query.where(User.active.is_(active))
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where((User.email.like(pattern)) | (User.name.ilike(pattern)))
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[UserRead](
        items=await _users(session, rows, visible), total=total, limit=limit, offset=offset
    )


@router.get("/users/{user_id}", response_model=UserRead, summary="One user and their roles")
async def get_user(user_id: int, principal: Manager, session: ReadSession) -> UserRead:
    visible = brands_with(principal, SETTINGS_MANAGE)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    if visible is not None:
        shared = await session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id, Membership.brand_id.in_(visible)
            )
        )
        if shared is None and user.id != principal.user.id:
            raise NotFound("user not found")
    return (await _users(session, [user], visible))[0]
