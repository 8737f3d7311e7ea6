"""The audit API: recent events of the caller's brands, and verification of the hash chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import retention, service
from finagency.audit.schemas import (
    AuditEventRead,
    ChainReportRead,
    LegalHoldCreate,
    LegalHoldRead,
    LegalHoldRelease,
)
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import CurrentPrincipal, DbSession, ReadSession, require
from finagency.auth.permissions import SETTINGS_MANAGE, VIEW
from finagency.core.errors import Forbidden, NotFound
from finagency.core.time import utcnow
from finagency.models import AuditEvent, LegalHold

router = APIRouter(tags=["audit"])

Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


def audit_scope(principal: CurrentPrincipal) -> list[int] | None:
    """Agency admins see every event (system ones too); others their brands' events only."""
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


async def recent_events(
    session: AsyncSession,
    brand_ids: Sequence[int] | None,
    *,
    action: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[AuditEvent]:
    query = select(AuditEvent)
    if brand_ids is not None:
        query = query.where(AuditEvent.brand_id.in_(list(brand_ids)))
    if action:
        query = query.where(AuditEvent.action == action)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = await session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit))
    return list(rows)


@router.get("/audit", response_model=list[AuditEventRead], summary="Recent audit events")
async def get_audit_events(
    principal: Viewer,
    session: ReadSession,
    action: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, description="Page backwards from here")] = None,
) -> list[AuditEventRead]:
    events = await recent_events(
        session, audit_scope(principal), action=action, limit=limit, before_id=before_id
    )
    return [AuditEventRead.model_validate(event) for event in events]


@router.get(
    "/audit/verify",
    response_model=ChainReportRead,
    summary="Recompute the hash chain: any edited, removed or reordered event breaks it",
)
async def verify_audit_chain(principal: Viewer, session: ReadSession) -> ChainReportRead:
    return ChainReportRead.model_validate(await service.verify_chain(session))


def _check_hold_rights(principal: CurrentPrincipal, brand_id: int | None) -> None:
    """Brand holds need settings.manage on the brand; agency-wide holds an agency admin."""
    if brand_id is None:
        if not (principal.user.is_admin and principal.via_token is None):
            raise Forbidden("only an agency admin can set or release an agency-wide legal hold")
        return
    if not principal.can_see(brand_id):
        raise NotFound("brand not found")
    if not principal.can(SETTINGS_MANAGE, brand_id):
        raise Forbidden("you do not have the 'settings.manage' permission on this brand")


@router.get("/audit/holds", response_model=list[LegalHoldRead], summary="Active legal holds")
async def get_legal_holds(principal: Viewer, session: ReadSession) -> list[LegalHoldRead]:
    scope = audit_scope(principal)
    holds = await retention.active_holds(session)
    return [
        LegalHoldRead.model_validate(hold)
        for hold in holds
        if scope is None or hold.brand_id is None or hold.brand_id in scope
    ]


@router.post(
    "/audit/holds",
    response_model=LegalHoldRead,
    status_code=201,
    dependencies=[Depends(csrf_protect)],
    summary="Set a legal hold: the brand's records are not deleted until it is released",
)
async def create_legal_hold(
    body: LegalHoldCreate, principal: Viewer, session: DbSession
) -> LegalHoldRead:
    _check_hold_rights(principal, body.brand_id)
    hold = await retention.set_legal_hold(
        session,
        brand_id=body.brand_id,
        reason=body.reason,
        actor=f"user:{principal.user.id}",
        now=utcnow(),
    )
    return LegalHoldRead.model_validate(hold)


@router.post(
    "/audit/holds/{hold_id}/release",
    response_model=LegalHoldRead,
    dependencies=[Depends(csrf_protect)],
    summary="Release a legal hold (audited)",
)
async def release_legal_hold(
    hold_id: int, principal: Viewer, session: DbSession, body: LegalHoldRelease | None = None
) -> LegalHoldRead:
    hold = await session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(f"legal hold {hold_id} not found")
    _check_hold_rights(principal, hold.brand_id)
    released = await retention.release_legal_hold(
        session,
        hold_id,
        actor=f"user:{principal.user.id}",
        now=utcnow(),
        note=(body or LegalHoldRelease()).note,
    )
    return LegalHoldRead.model_validate(released)
