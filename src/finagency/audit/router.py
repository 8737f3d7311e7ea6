"""The audit API: recent events of the caller's brands, and verification of the hash chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service
from finagency.audit.schemas import AuditEventRead, ChainReportRead
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.models import AuditEvent

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
