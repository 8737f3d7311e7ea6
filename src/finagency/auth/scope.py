"""Which brands a list endpoint may return rows of, for one caller."""

from __future__ import annotations

from finagency.auth.dependencies import CurrentPrincipal
from finagency.core.errors import NotFound


def brand_scope(principal: CurrentPrincipal, brand_id: int | None = None) -> list[int] | None:
    """``[brand_id]`` when asked for one visible brand (NotFound when not visible); otherwise
    every brand the caller belongs to, or None (no filter) for an agency admin's own session.

    A token, even an agency admin's, is always filtered to the brands it resolves to, so a
    brand-bound token can never list another brand's rows.
    """
    if brand_id is not None:
        if not principal.can_see(brand_id):
            raise NotFound("brand not found")
        return [brand_id]
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


def brands_with(principal: CurrentPrincipal, permission: str) -> list[int] | None:
    """The brands where the caller holds ``permission``; None for an agency admin's session."""
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(b for b in principal.brand_ids if principal.can(permission, b))
