"""Gathers every domain router under one APIRouter (mounted at /api/v1 by create_app)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from finagency.analytics.engagement_router import router as engagement_router
from finagency.analytics.router import router as analytics_router
from finagency.audit.events_router import router as audit_events_router
from finagency.audit.router import router as audit_router
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.auth.tokens import router as tokens_router
from finagency.brands import service as brands
from finagency.brands.router import router as brand_detail_router
from finagency.content.editorial_router import router as editorial_router
from finagency.content.items_router import router as content_items_router
from finagency.content.router import router as content_router
from finagency.core.errors import ValidationFailed
from finagency.market.router import router as market_router
from finagency.ops.dead_letters_router import router as dead_letters_router
from finagency.ops.queue_router import router as queue_router
from finagency.publishing.router import router as accounts_router
from finagency.reports.router import router as reports_router
from finagency.review.records_router import router as review_records_router
from finagency.review.router import router as review_router
from finagency.webhooks.router import router as webhooks_router

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine code, e.g. not_found, validation_failed")
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error of the API: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorBody


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorResponse}


# Every /api/v1 route may answer these, always in the ErrorResponse shape (see docs/api.md).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("not_authenticated: not signed in, or the API token is invalid"),
    403: _error("forbidden / csrf_failed: missing permission, scope or CSRF token"),
    404: _error("not_found: no such object, or on a brand you may not see"),
    409: _error("conflict / invalid_transition: the object's state does not allow it"),
    422: _error("validation_failed: the request is invalid (details say where)"),
    429: _error("rate_limited: too many requests"),
}


class BrandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    regime: str
    timezone: str
    maker_checker: bool


brands_router = APIRouter(tags=["brands"])


@brands_router.get("/brands", response_model=list[BrandRead], summary="Brands you may see")
async def get_brands(
    principal: Annotated[CurrentPrincipal, Depends(require(VIEW))], session: ReadSession
) -> list[BrandRead]:
    scope = (
        None
        if principal.user.is_admin and principal.via_token is None
        else sorted(principal.brand_ids)
    )
    return [BrandRead.model_validate(brand) for brand in await brands.list_brands(session, scope)]


MAX_ID = 2**63 - 1  # BIGINT; SQLite's INTEGER is the same 64 bits


def _too_big(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > MAX_ID
    if isinstance(value, list):
        return any(_too_big(item) for item in value)
    if isinstance(value, dict):
        return any(_too_big(item) for item in value.values())
    return False


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


async def ids_in_range(request: Request) -> None:
    """Input every database can store: 64-bit whole numbers and text without NUL characters.

    FastAPI's ``int`` accepts any size; a number beyond 64 bits would reach the driver and
    fail there (OverflowError, a 500). PostgreSQL refuses NUL (0x00) in text the same way.
    Answer 422 instead, for every route at once.
    """
    values = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, raw in values:
        if _has_nul(str(raw)):
            raise ValidationFailed(
                f"{name} must not contain NUL characters", details={"field": name}
            )
        text = str(raw).strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isdigit() and len(digits) > 18 and abs(int(text)) > MAX_ID:
            raise ValidationFailed(
                f"{name} is out of range", details={"field": name, "max": MAX_ID}
            )
    if request.method in ("POST", "PUT", "PATCH") and request.headers.get(
        "content-type", ""
    ).startswith("application/json"):
        body = await request.body()  # cached by Starlette: the endpoint reads it again for free
        if len(body) <= 1_000_000:
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                return  # FastAPI answers malformed JSON with its own 422
            if _too_big(parsed):
                raise ValidationFailed(
                    "a number in the body is out of range", details={"max": MAX_ID}
                )
            if _has_nul(parsed):
                raise ValidationFailed("text in the body must not contain NUL characters")


api_router = APIRouter(responses=ERROR_RESPONSES, dependencies=[Depends(ids_in_range)])
for _router in (
    analytics_router,
    content_router,
    editorial_router,
    review_router,
    queue_router,
    market_router,
    audit_router,
    brands_router,
    brand_detail_router,
    tokens_router,
    accounts_router,
    content_items_router,
    review_records_router,
    dead_letters_router,
    engagement_router,
    webhooks_router,
    audit_events_router,
    reports_router,
):
    api_router.include_router(_router)


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def install_api_error_handlers(app: FastAPI) -> None:
    """Routing errors (unknown route 404, wrong method 405) and crashes under /api/ answer in
    the one error shape too; other paths keep FastAPI's default (pages handle their own)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, error)
        code = _HTTP_CODES.get(error.status_code, "http_error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        if error.status_code == 404:
            message = f"no API route {request.url.path}"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        body = {"code": code, "message": message}
        return JSONResponse(
            {"error": body}, status_code=error.status_code, headers=dict(error.headers or {})
        )

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        log.exception("request.crashed", path=request.url.path)
        if not request.url.path.startswith("/api/"):
            return PlainTextResponse("Internal Server Error", status_code=500)
        body = {"code": "internal", "message": "something went wrong on our side"}
        return JSONResponse({"error": body}, status_code=500)
