"""The role → permission table and the per-brand checks built on it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from finagency.auth.dependencies import CurrentPrincipal
from finagency.auth.permissions import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLES,
    check_permission_name,
    has_permission,
    permissions_for_roles,
)
from finagency.models.brand import ApiToken, User


@dataclass
class FakeUser:
    is_admin: bool = False
    active: bool = True


def test_roles_are_the_five_product_roles() -> None:
    assert {"admin", "editor", "approver", "client", "operator"} == ROLES
    assert ROLE_PERMISSIONS["admin"] == PERMISSIONS


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("client", {"view", "post.client_signoff"}),
        ("approver", {"view", "post.approve"}),
        ("editor", {"view", "post.edit", "post.schedule"}),
        ("operator", {"view", "queue.operate"}),
        ("admin", set(PERMISSIONS)),
    ],
)
def test_each_role_grants_exactly_its_permissions(role: str, allowed: set[str]) -> None:
    roles = {1: {role}}
    granted = {p for p in PERMISSIONS if has_permission(FakeUser(), roles, 1, p)}
    assert granted == allowed


def test_roles_on_one_brand_grant_nothing_on_another() -> None:
    roles = {1: {"admin"}}
    assert has_permission(FakeUser(), roles, 1, "settings.manage")
    assert not has_permission(FakeUser(), roles, 2, "view")


def test_without_a_brand_any_brand_with_the_permission_counts() -> None:
    roles = {1: {"client"}, 2: {"approver"}}
    assert has_permission(FakeUser(), roles, None, "post.approve")
    assert not has_permission(FakeUser(), roles, None, "post.edit")


def test_agency_admin_holds_everything_everywhere_unless_disabled() -> None:
    assert has_permission(FakeUser(is_admin=True), {}, 99, "settings.manage")
    assert not has_permission(FakeUser(is_admin=True, active=False), {}, 99, "view")
    assert not has_permission(FakeUser(active=False), {1: {"admin"}}, 1, "view")


def test_unknown_names_fail_closed() -> None:
    assert permissions_for_roles({"superuser"}) == frozenset()
    with pytest.raises(ValueError, match="unknown permission"):
        check_permission_name("post.delete")
    with pytest.raises(ValueError, match="unknown permission"):
        has_permission(FakeUser(is_admin=True), {}, 1, "post.delete")


def test_token_scopes_narrow_the_owners_roles() -> None:
    owner = User(email="a@example.com", password_hash="x", is_admin=False, active=True)
    token = ApiToken(user_id=1, name="ci", token_hash="h", scopes=["view"], brand_id=None)
    principal = CurrentPrincipal(
        owner, {1: {"approver"}}, via_token=token, scopes=frozenset({"view"})
    )

    assert principal.can("view", 1)
    assert not principal.can("post.approve", 1)
    assert not principal.can("view", 2)


def test_brand_bound_token_of_an_admin_sees_one_brand() -> None:
    admin = User(email="a@example.com", password_hash="x", is_admin=True, active=True)
    token = ApiToken(user_id=1, name="ci", token_hash="h", scopes=["view"], brand_id=1)
    principal = CurrentPrincipal(
        admin, {1: set(ROLES)}, via_token=token, scopes=frozenset({"view"})
    )

    assert principal.can_see(1)
    assert not principal.can_see(2)
    assert not principal.can("view", 2)
