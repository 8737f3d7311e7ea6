"""`/api/v1/reports`: stored reports, and any period's report generated on request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, get_services, require
from finagency.auth.permissions import VIEW
from finagency.core.time import utcnow
from finagency.reports import service

router = APIRouter(tags=["reports"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


class StoredReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int | None
    title: str
    kind: str
    period_start: datetime
    period_end: datetime
    compare_start: datetime | None
    compare_end: datetime | None
    summary: dict[str, Any]
    delivery: str | None
    created_at: datetime


class StoredReportFull(StoredReportRead):
    markdown: str


def scope_of(principal: CurrentPrincipal) -> list[int] | None:
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


@router.get("/reports", response_model=list[StoredReportRead], summary="Stored reports")
async def list_reports(principal: Viewer, session: ReadSession) -> list[StoredReportRead]:
    stored = await service.list_stored(session, scope_of(principal))
    return [StoredReportRead.model_validate(item) for item in stored]


@router.get("/reports/generate", summary="A period's report in Markdown, HTML or PDF")
async def generate_report(
    request: Request,
    principal: Viewer,
    session: ReadSession,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    compare_to: str | None = None,
    brand: str | None = None,
    format: Annotated[str, Query(pattern="^(md|html|pdf)$")] = "md",
) -> Response:
    wanted = await service.resolve_request(
        session, scope_of(principal), first=first, last=last, compare_to=compare_to, brand=brand
    )
    report = await service.build_report(
        session, wanted, now=utcnow(), redis=get_services(request).redis
    )
    return Response(service.render(report, format), media_type=service.MEDIA_TYPES[format])


@router.get("/reports/{report_id}", response_model=StoredReportFull, summary="One stored report")
async def get_report(report_id: int, principal: Viewer, session: ReadSession) -> StoredReportFull:
    stored = await service.get_stored(session, report_id, scope_of(principal))
    return StoredReportFull.model_validate(stored)
