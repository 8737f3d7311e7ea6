"""The Jinja2 environment for the dashboard: autoescaping, globals, filters and flash messages."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from finagency.auth.csrf import csrf_token
from finagency.web import TEMPLATES_DIR

_FLASH_KEY = "flash"
_MAX_FLASHES = 5


class NavItem(NamedTuple):
    path: str
    label: str


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("/", "Overview"),
    NavItem("/review", "Review"),
    NavItem("/compose", "Compose"),
    NavItem("/calendar", "Calendar"),
    NavItem("/posts", "Posts"),
    NavItem("/queue", "Queue"),
    NavItem("/dead-letters", "Dead letters"),
    NavItem("/unconfirmed", "Unconfirmed"),
    NavItem("/accounts", "Accounts"),
    NavItem("/market", "Market"),
    NavItem("/analytics", "Analytics"),
    NavItem("/reports", "Reports"),
    NavItem("/audit", "Audit"),
    NavItem("/settings", "Settings"),
)


def fmt_dt(value: datetime | None, fallback: str = "—") -> str:
    """A UTC timestamp to the minute, e.g. ``2025-03-04 14:05 UTC``."""
    if value is None:
        return fallback
    return value.strftime("%Y-%m-%d %H:%M UTC")


def fmt_num(value: float | int | None, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}"
    return f"{value:,}{suffix}"


def _viewer_context(request: Request) -> dict[str, Any]:
    # Set by the page dependency (web.deps.viewer); absent on the sign-in page.
    return {"viewer": getattr(request.state, "viewer", None)}


@cache
def templates() -> Jinja2Templates:
    """The one template set, built on first use (not at import) and shared by every app."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Everything is escaped; there is no |safe on user or feed data anywhere.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_token"] = csrf_token
    env.globals["nav_items"] = NAV_ITEMS
    env.filters["fmt_dt"] = fmt_dt
    env.filters["fmt_num"] = fmt_num
    return Jinja2Templates(env=env, context_processors=[_viewer_context])


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Queue a message for the next page this browser renders (kept in the session cookie)."""
    pending = list(request.session.get(_FLASH_KEY, []))[-(_MAX_FLASHES - 1) :]
    pending.append([kind, message])
    request.session[_FLASH_KEY] = pending


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "session" not in request.scope:
        return []
    pending = request.session.pop(_FLASH_KEY, [])
    return [(str(kind), str(message)) for kind, message in pending]


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    background: BackgroundTask | None = None,
) -> Response:
    """Render a page with the flashes, the nav and the viewer filled in."""
    values: dict[str, Any] = {"flashes": pop_flashes(request), "page_title": "", "active": ""}
    values.update(context or {})
    return templates().TemplateResponse(
        request, name, values, status_code=status_code, background=background
    )
