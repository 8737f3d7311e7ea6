"""The one role → permission table: per-brand roles, agency admins, and the permission check."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Final, Protocol

VIEW: Final = "view"
POST_EDIT: Final = "post.edit"
POST_APPROVE: Final = "post.approve"
# The brand's client signs off an approved post (only when the brand turns client approval on).
POST_CLIENT_SIGNOFF: Final = "post.client_signoff"
POST_SCHEDULE: Final = "post.schedule"
QUEUE_OPERATE: Final = "queue.operate"
SETTINGS_MANAGE: Final = "settings.manage"

PERMISSIONS: Final[frozenset[str]] = frozenset(
    {
        VIEW,
        POST_EDIT,
        POST_APPROVE,
        POST_CLIENT_SIGNOFF,
        POST_SCHEDULE,
        QUEUE_OPERATE,
        SETTINGS_MANAGE,
    }
)

# Deny by default: a role grants exactly what is listed here and nothing else. Maker-checker
# (an approver never approves their own post) is the review domain's rule, not a permission.
ROLE_PERMISSIONS: Final[Mapping[str, frozenset[str]]] = {
    "admin": PERMISSIONS,
    "editor": frozenset({VIEW, POST_EDIT, POST_SCHEDULE}),
    "approver": frozenset({VIEW, POST_APPROVE}),
    "client": frozenset({VIEW, POST_CLIENT_SIGNOFF}),
    "operator": frozenset({VIEW, QUEUE_OPERATE}),
}

ROLES: Final[frozenset[str]] = frozenset(ROLE_PERMISSIONS)


class Principal(Protocol):
    """What the check needs from a user: agency admins hold every role on every brand."""

    @property
    def is_admin(self) -> bool: ...

    @property
    def active(self) -> bool: ...


def check_permission_name(permission: str) -> str:
    """Return ``permission`` if it is in the table; a typo must fail loudly, never grant."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {sorted(PERMISSIONS)}")
    return permission


def permissions_for_roles(roles: Set[str]) -> frozenset[str]:
    """The union of what ``roles`` grant; unknown role names grant nothing."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def has_permission(
    user: Principal,
    roles_by_brand: Mapping[int, Set[str]],
    brand_id: int | None,
    permission: str,
) -> bool:
    """Whether ``user`` may do ``permission`` on ``brand_id`` (on any brand when it is None)."""
    check_permission_name(permission)
    if not user.active:
        return False
    if user.is_admin:
        return True
    if brand_id is None:
        return any(permission in permissions_for_roles(roles) for roles in roles_by_brand.values())
    return permission in permissions_for_roles(roles_by_brand.get(brand_id, frozenset()))
