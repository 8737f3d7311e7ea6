"""The Reports page: pick a period and a comparison, read the report, download it, keep it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.core.errors import AppError
from finagency.core.time import utcnow
from finagency.models import Brand
from finagency.reports import service
from finagency.reports.html import render_fragment
from finagency.web.deps import PageViewer
from finagency.web.templating import flash, render

router = APIRouter()
Text = Annotated[str | None, Query()]


def _params(
    first: str | None, last: str | None, compare: str | None, brand: str | None
) -> dict[str, str]:
    values = {"from": first, "to": last, "compare_to": compare, "brand": brand}
    return {key: value for key, value in values.items() if value}


def _suggested() -> dict[str, str]:
    """The last seven days against the seven before: the form's placeholders."""
    period = service.default_period(utcnow())
    before = service.previous(period)
    day = timedelta(days=1)
    return {
        "from": period.start.date().isoformat(),
        "to": (period.end - day).date().isoformat(),
        "compare_to": f"{before.start.date().isoformat()}..{(before.end - day).date().isoformat()}",
    }


@router.get("/reports")
async def reports_page(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    compare_to: Text = None,
    brand: Text = None,
) -> Response:
    """With a period in the query the report is shown below the form; without, the form."""
    params = _params(first, last, compare_to, brand)
    report_html = None
    error = None
    if params:
        try:
            wanted = await service.resolve_request(
                session, viewer.scope, first=first, last=last, compare_to=compare_to, brand=brand
            )
            built = await service.build_report(
                session, wanted, now=utcnow(), redis=get_services(request).redis
            )
            report_html = render_fragment(built, level=2)
        except AppError as failure:
            error = failure.message
    stored = await service.list_stored(session, viewer.scope)
    context = {
        "page_title": "Reports",
        "active": "/reports",
        "params": params,
        "suggested": _suggested(),
        "brands": viewer.brands,
        "report_html": report_html,
        "error": error,
        "stored": stored,
        "query": urlencode(params),
    }
    return render(request, "reports.html", context, status_code=422 if error else 200)


@router.get("/reports/download")
async def download(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    compare_to: Text = None,
    brand: Text = None,
    format: Annotated[str, Query(pattern="^(md|html|pdf)$")] = "md",
) -> Response:
    wanted = await service.resolve_request(
        session, viewer.scope, first=first, last=last, compare_to=compare_to, brand=brand
    )
    built = await service.build_report(
        session, wanted, now=utcnow(), redis=get_services(request).redis
    )
    name = f"finagency-report-{wanted.period.start:%Y%m%d}-{wanted.period.end:%Y%m%d}.{format}"
    return Response(
        service.render(built, format),
        media_type=service.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/reports", dependencies=[Depends(csrf_protect)])
async def save_report(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    first: Annotated[str | None, Form(alias="from")] = None,
    last: Annotated[str | None, Form(alias="to")] = None,
    compare_to: Annotated[str | None, Form()] = None,
    brand: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        wanted = await service.resolve_request(
            session, viewer.scope, first=first, last=last, compare_to=compare_to, brand=brand
        )
        built = await service.build_report(
            session, wanted, now=utcnow(), redis=get_services(request).redis
        )
        stored = await service.store(session, built, wanted)
    except AppError as failure:
        await session.rollback()
        flash(request, f"Report not saved: {failure.message}", "error")
        return RedirectResponse("/reports", status_code=303)
    flash(request, "Report saved.", "success")
    return RedirectResponse(f"/reports/{stored.id}", status_code=303)


@router.get("/reports/{report_id:int}")
async def stored_report(
    report_id: int, request: Request, viewer: PageViewer, session: ReadSession
) -> Response:
    stored = await service.get_stored(session, report_id, viewer.scope)
    brand = await session.get(Brand, stored.brand_id) if stored.brand_id else None
    built = await service.build_report(
        session,
        service.stored_request(stored, brand),
        now=utcnow(),
        redis=get_services(request).redis,
        title=stored.title,
    )
    context = {
        "page_title": stored.title,
        "active": "/reports",
        "stored": stored,
        "report_html": render_fragment(built, level=2),
    }
    return render(request, "reports_stored.html", context)


@router.get("/reports/{report_id:int}/download")
async def download_stored(
    report_id: int,
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    format: Annotated[str, Query(pattern="^(md|html|pdf)$")] = "md",
) -> Response:
    """Markdown is the copy kept at the time; HTML and PDF are drawn again from the history."""
    stored = await service.get_stored(session, report_id, viewer.scope)
    name = f"finagency-report-{stored.id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "md":
        return Response(stored.markdown, media_type=service.MEDIA_TYPES["md"], headers=headers)
    brand = await session.get(Brand, stored.brand_id) if stored.brand_id else None
    built = await service.build_report(
        session,
        service.stored_request(stored, brand),
        now=utcnow(),
        redis=get_services(request).redis,
        title=stored.title,
    )
    return Response(
        service.render(built, format), media_type=service.MEDIA_TYPES[format], headers=headers
    )
