"""The findings and approvals API: what the checks raised and who decided what, per brand."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy import select

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.auth.scope import brand_scope
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import Approval, Finding
from finagency.review.schemas import ApprovalRead, FindingRead

router = APIRouter(tags=["review"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


class FindingListRead(FindingRead):
    brand_id: int
    post_id: int
    created_at: datetime


class ApprovalListRead(ApprovalRead):
    brand_id: int
    post_id: int
    stage: str = Field(description="approver, or client for a client sign-off")


@router.get("/findings", response_model=Page[FindingListRead], summary="Check findings")
async def list_findings(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    post_id: Annotated[int | None, Query()] = None,
    severity: Annotated[Literal["block", "review", "info"] | None, Query()] = None,
    check_id: Annotated[str | None, Query(max_length=40)] = None,
    disposition: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[FindingListRead]:
    query = select(Finding).order_by(Finding.id.desc())
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        query = query.where(Finding.brand_id.in_(scope))
    if post_id is not None:
        query = query.where(Finding.post_id == post_id)
    if severity is not None:
        query = query.where(Finding.severity == severity)
    if check_id:
        query = query.where(Finding.check_id == check_id)
    if disposition:
        query = query.where(Finding.disposition == disposition)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[FindingListRead](
        items=[FindingListRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/approvals", response_model=Page[ApprovalListRead], summary="Review decisions")
async def list_approvals(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    post_id: Annotated[int | None, Query()] = None,
    decision: Annotated[Literal["approved", "rejected"] | None, Query()] = None,
    approver_id: Annotated[int | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ApprovalListRead]:
    query = select(Approval).order_by(Approval.id.desc())
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        query = query.where(Approval.brand_id.in_(scope))
    if post_id is not None:
        query = query.where(Approval.post_id == post_id)
    if decision is not None:
        query = query.where(Approval.decision == decision)
    if approver_id is not None:
        query = query.where(Approval.approver_id == approver_id)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[ApprovalListRead](
        items=[ApprovalListRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
