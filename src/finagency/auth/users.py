"""User administration: list, look up, change a role on a brand, deactivate (flush only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.auth import session_store
from finagency.auth.permissions import ROLES
from finagency.auth.service import grant_role, normalise_email
from finagency.core.errors import Conflict, NotFound, ValidationFailed
from finagency.models.brand import ApiToken, Brand, Membership, User

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class UserRow:
    """A user with their roles by brand id, as the settings page and the CLI list them."""

    user: User
    roles: dict[int, list[str]] = field(default_factory=dict)


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def user_by_email(session: AsyncSession, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"no user with email {email.strip()!r}")
    return user


async def list_users(
    session: AsyncSession, brand_ids: Sequence[int] | None = None
) -> list[UserRow]:
    """Every user (``brand_ids`` None) or the users holding a role on one of ``brand_ids``.

    Roles shown are limited to ``brand_ids`` too, so a brand admin sees nothing of other brands.
    """
    memberships = select(Membership.user_id, Membership.brand_id, Membership.role)
    if brand_ids is not None:
        memberships = memberships.where(Membership.brand_id.in_(list(brand_ids)))
    roles: dict[int, dict[int, list[str]]] = {}
    for user_id, brand_id, role in await session.execute(memberships):
        roles.setdefault(user_id, {}).setdefault(brand_id, []).append(role)
    query = select(User).order_by(User.email)
    if brand_ids is not None:
        query = query.where(User.id.in_(list(roles)))
    users = (await session.execute(query)).scalars().all()
    return [
        UserRow(user, {b: sorted(r) for b, r in sorted(roles.get(user.id, {}).items())})
        for user in users
    ]


async def set_brand_role(
    session: AsyncSession, user_id: int, brand_id: int, role: str | None
) -> None:
    """Make ``role`` the user's only role on the brand; None removes them from the brand."""
    if role is not None and role not in ROLES:
        raise ValidationFailed(
            f"unknown role {role!r}", details={"field": "role", "allowed": sorted(ROLES)}
        )
    await get_user(session, user_id)
    if await session.get(Brand, brand_id) is None:
        raise NotFound("brand not found")
    await session.execute(
        delete(Membership).where(Membership.user_id == user_id, Membership.brand_id == brand_id)
    )
    if role is not None:
        await grant_role(session, user_id, brand_id, role)
    log.info("auth.role_set", user_id=user_id, brand_id=brand_id, role=role)


async def set_active(session: AsyncSession, user: User, active: bool) -> None:
    """Enable or disable ``user``; disabling ends their sessions and deletes their API tokens.

    The last active agency admin cannot be disabled (nobody could administer the agency).
    """
    if not active and user.is_admin and user.active:
        others = await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.is_admin.is_(True), User.active.is_(True), User.id != user.id)
        )
        if not others:
            raise Conflict("the last active agency admin cannot be deactivated")
    user.active = active
    await session.flush()
    if not active:
        await session_store.revoke_user_sessions(session, user.id)
        await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    log.info("auth.user_active_set", user_id=user.id, active=active)
