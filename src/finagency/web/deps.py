"""What every dashboard page needs: the signed-in viewer, their brands and their brand scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends
from starlette.requests import Request

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.brands import service as brands
from finagency.core.errors import ValidationFailed
from finagency.models import Brand, User


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and the brands they may see (``scope`` None: every brand)."""

    principal: CurrentPrincipal
    brands: Sequence[Brand]

    @property
    def user(self) -> User:
        return self.principal.user

    @property
    def scope(self) -> list[int] | None:
        return brand_scope(self.principal)

    def can(self, permission: str, brand_id: int | None = None) -> bool:
        return self.principal.can(permission, brand_id)

    def brand_name(self, brand_id: int) -> str:
        for brand in self.brands:
            if brand.id == brand_id:
                return brand.name
        return f"brand {brand_id}"


def brand_scope(principal: CurrentPrincipal) -> list[int] | None:
    """The brand ids a query must filter on; None for an agency admin not bound to one brand."""
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


async def viewer(
    request: Request,
    principal: Annotated[CurrentPrincipal, Depends(require(VIEW))],
    session: ReadSession,
) -> Viewer:
    found = Viewer(principal, await brands.list_brands(session, brand_scope(principal)))
    request.state.viewer = found
    return found


PageViewer = Annotated[Viewer, Depends(viewer)]


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (no scheme, host, ``//`` or backslash), else default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return default
    return target


def is_web_url(url: str | None) -> bool:
    """Only http(s) links are rendered as links (never javascript: or data:)."""
    return bool(url) and urlsplit(url or "").scheme.lower() in ("http", "https")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def storable_input(request: Request) -> None:
    """Refuse NUL characters in a page's query or form (PostgreSQL cannot store them).

    Without this a NUL typed or pasted into a field reaches the driver and the page answers
    500; with it the person gets "Please check what you entered" and nothing is written.
    Starlette keeps the parsed form on the request, so the endpoint does not read it twice.
    """
    fields: list[tuple[str, object]] = list(request.query_params.multi_items())
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        fields.extend((await request.form()).multi_items())
    for name, value in fields:
        if isinstance(value, str) and "\x00" in value:
            raise ValidationFailed(
                f"{name} must not contain NUL characters", details={"field": name}
            )
