"""Scoped API tokens: named scopes, and the /api/v1/tokens endpoints to create, list, revoke.

A scope is a name a person understands; it grants exactly one permission of the role table
(``read`` → view, ``content:write`` → post.edit, ...). Tokens store the permissions, which is
what ``CurrentPrincipal.can`` checks, and a token can never do more than its owner's roles
allow. Every token may read: the other scopes imply ``read``. The plaintext is shown once, in
the create response; only its SHA-256 is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from finagency.auth import service
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import CurrentPrincipal, DbSession, ReadSession, require
from finagency.auth.permissions import (
    POST_APPROVE,
    POST_CLIENT_SIGNOFF,
    POST_EDIT,
    POST_SCHEDULE,
    QUEUE_OPERATE,
    SETTINGS_MANAGE,
    VIEW,
)
from finagency.core.errors import Forbidden, ValidationFailed
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import ApiToken

SCOPES: Final[dict[str, str]] = {
    "read": VIEW,
    "content:write": POST_EDIT,
    "review": POST_APPROVE,
    "client:signoff": POST_CLIENT_SIGNOFF,
    "publish": POST_SCHEDULE,
    "queue:admin": QUEUE_OPERATE,
    "settings:admin": SETTINGS_MANAGE,
}
_SCOPE_OF: Final = {permission: scope for scope, permission in SCOPES.items()}


def permissions_for_scopes(scopes: Iterable[str]) -> list[str]:
    """Scope names → the permissions stored on the token; unknown names fail loudly."""
    wanted = list(dict.fromkeys(scopes))
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if not wanted or unknown:
        raise ValidationFailed(
            "scopes must be a non-empty list of known scopes",
            details={"field": "scopes", "unknown": unknown, "allowed": sorted(SCOPES)},
        )
    return sorted({VIEW, *(SCOPES[scope] for scope in wanted)})


def scopes_of(token: ApiToken) -> list[str]:
    return sorted(_SCOPE_OF.get(permission, permission) for permission in token.scopes)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES), examples=[["read"]])
    brand_id: int | None = Field(default=None, description="Bind the token to one brand")
    expires_at: datetime | None = None


class TokenRead(BaseModel):
    id: int
    name: str
    user_id: int
    brand_id: int | None
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret; shown this once, store it now")


def token_read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        user_id=token.user_id,
        brand_id=token.brand_id,
        scopes=scopes_of(token),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )


router = APIRouter(tags=["tokens"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


def _session_only(principal: CurrentPrincipal) -> None:
    if principal.via_token is not None:
        raise Forbidden("API tokens cannot manage API tokens; sign in to do that")


@router.get("/tokens", response_model=Page[TokenRead], summary="Your API tokens")
async def list_tokens(
    principal: Viewer,
    session: ReadSession,
    limit: Limit = 50,
    offset: Offset = 0,
    all_users: Annotated[bool, Query(description="Agency admins: everyone's tokens")] = False,
) -> Page[TokenRead]:
    _session_only(principal)
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if not (all_users and principal.user.is_admin):
        query = query.where(ApiToken.user_id == principal.user.id)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[TokenRead](
        items=[token_read(row) for row in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    dependencies=[Depends(csrf_protect)],
    summary="Create an API token (the secret is in this response only)",
)
async def create_token(body: TokenCreate, principal: Viewer, session: DbSession) -> TokenCreated:
    _session_only(principal)
    token, plaintext = await service.create_api_token(
        session,
        principal.user,
        body.name,
        permissions_for_scopes(body.scopes),
        brand_id=body.brand_id,
        expires_at=body.expires_at,
    )
    await session.refresh(token)
    return TokenCreated(**token_read(token).model_dump(), token=plaintext)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    dependencies=[Depends(csrf_protect)],
    summary="Revoke an API token",
)
async def revoke_token(token_id: int, principal: Viewer, session: DbSession) -> Response:
    _session_only(principal)
    await service.revoke_api_token(session, principal.user, token_id)
    return Response(status_code=204)
