"""`GET /audit/events`: the audit log in the list envelope, searchable by what, who and when.

``GET /audit`` (a plain list, cursor ``before_id``) stays for the pages that use it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime
from sqlalchemy import select

from finagency.audit.schemas import AuditEventRead
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.auth.scope import brand_scope
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import AuditEvent

router = APIRouter(tags=["audit"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


@router.get("/audit/events", response_model=Page[AuditEventRead], summary="Search the audit log")
async def search_audit(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=80, description="e.g. post.approved")] = None,
    actor: Annotated[str | None, Query(max_length=200, description="e.g. user:3")] = None,
    object_type: Annotated[str | None, Query(max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditEventRead]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        # Agency-wide events (no brand) are for agency admins' own sessions only.
        query = query.where(AuditEvent.brand_id.in_(scope))
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[AuditEventRead](
        items=[AuditEventRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
