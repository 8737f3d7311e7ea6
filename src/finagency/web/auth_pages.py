"""Sign-in and sign-out pages: CSRF-protected forms, rate-limited, session rotated at sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.auth import service as auth
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    DbSession,
    enforce_login_rate_limit,
    reset_login_rate_limit,
)
from finagency.auth.sessions import end_session, start_session
from finagency.core.errors import NotAuthenticated, RateLimited
from finagency.web.deps import safe_next
from finagency.web.templating import flash, render

router = APIRouter()


def _login_page(
    request: Request, *, next_path: str, email: str = "", error: str = "", status_code: int = 200
) -> Response:
    context = {"page_title": "Sign in", "next": next_path, "email": email, "error": error}
    return render(request, "login.html", context, status_code=status_code)


@router.get("/login")
async def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", dependencies=[Depends(csrf_protect)])
async def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_path = safe_next(next)
    try:
        enforce_login_rate_limit(request, email)
    except RateLimited as error:
        return _login_page(
            request, next_path=next_path, email=email, error=error.message, status_code=429
        )
    try:
        user = await auth.authenticate(session, email, password)
    except NotAuthenticated as error:
        return _login_page(
            request, next_path=next_path, email=email, error=error.message, status_code=401
        )
    reset_login_rate_limit(request, email)
    # A fresh session (and CSRF token) at sign-in: a planted pre-login cookie is worth nothing.
    start_session(request, user)
    flash(request, f"Signed in as {user.email}.", "success")
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
async def logout(request: Request) -> Response:
    end_session(request)
    flash(request, "You are signed out.", "info")
    return RedirectResponse("/login", status_code=303)
