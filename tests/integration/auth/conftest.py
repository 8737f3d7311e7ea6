"""A minimal app wired with the auth dependencies, on the per-test real database, and helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from finagency.auth import service
from finagency.auth.csrf import csrf_protect, csrf_token
from finagency.auth.dependencies import (
    CurrentPrincipal,
    CurrentUser,
    DbSession,
    OptionalUser,
    enforce_login_rate_limit,
    require,
    reset_login_rate_limit,
)
from finagency.auth.ratelimit import install_login_limiter
from finagency.auth.sessions import end_session, install_session_middleware, start_session
from finagency.config import SecuritySettings, Settings
from finagency.core.db import create_read_sessionmaker, transaction
from finagency.core.errors import AppError, ValidationFailed
from finagency.core.events import EventBus
from finagency.core.services import Services
from finagency.models.brand import Brand

Sessions = async_sessionmaker[AsyncSession]
PASSWORD = "correct horse battery"
COOKIE = "finagency_session"

Csrf = Depends(csrf_protect)


def build_app(settings: Settings, services: Services) -> FastAPI:
    app = FastAPI()
    app.state.services = services
    install_session_middleware(app, settings)
    install_login_limiter(app, settings)

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    @app.get("/csrf")
    async def get_csrf(request: Request) -> dict[str, str]:
        return {"csrf_token": csrf_token(request)}

    @app.post("/login", dependencies=[Csrf])
    async def login(
        request: Request,
        session: DbSession,
        email: Annotated[str, Form()],
        password: Annotated[str, Form()],
    ) -> dict[str, int]:
        enforce_login_rate_limit(request, email)
        user = await service.authenticate(session, email, password)
        start_session(request, user)
        reset_login_rate_limit(request, email)
        return {"user_id": user.id}

    @app.post("/logout", dependencies=[Csrf])
    async def logout(request: Request) -> dict[str, bool]:
        end_session(request)
        return {"ok": True}

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, object]:
        return {"id": user.id, "email": user.email}

    @app.get("/whoami")
    async def whoami(user: OptionalUser) -> dict[str, object]:
        return {"id": user.id if user else None}

    @app.post("/notes", dependencies=[Csrf])
    async def add_note(user: CurrentUser, note: Annotated[str, Form()]) -> dict[str, str]:
        return {"note": note}

    @app.get("/brands/{brand_id}")
    async def brand_page(
        brand_id: int, principal: Annotated[CurrentPrincipal, Depends(require("view"))]
    ) -> dict[str, int]:
        return {"brand_id": brand_id}

    @app.post("/brands/{brand_id}/approve", dependencies=[Csrf])
    async def approve(
        brand_id: int, principal: Annotated[CurrentPrincipal, Depends(require("post.approve"))]
    ) -> dict[str, int]:
        return {"approved_on": brand_id}

    @app.post("/users", dependencies=[Csrf])
    async def add_user(
        session: DbSession,
        principal: Annotated[CurrentPrincipal, Depends(require("settings.manage"))],
        email: Annotated[str, Form()],
        fail: Annotated[bool, Form()] = False,
    ) -> dict[str, int]:
        user = await service.create_user(session, email, PASSWORD)
        if fail:
            raise ValidationFailed("the change after the insert failed")
        return {"id": user.id}

    return app


@pytest.fixture
async def services(engine: AsyncEngine, sessionmaker: Sessions) -> AsyncIterator[Services]:
    settings = Settings(
        _env_file=None,
        secret_key=SecretStr("integration-test-secret"),
        security=SecuritySettings(login_attempts_per_minute=10),
    )
    async with httpx.AsyncClient() as http:
        yield Services(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            read_sessionmaker=create_read_sessionmaker(engine),
            http=http,
            events=EventBus(),
            secret_box=None,
        )


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(services.settings, services)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def brands(sessionmaker: Sessions) -> tuple[int, int]:
    async with transaction(sessionmaker) as session:
        first, second = Brand(slug="alpha", name="Alpha"), Brand(slug="beta", name="Beta")
        session.add_all([first, second])
        await session.flush()
        return first.id, second.id


MakeUser = Callable[..., Awaitable[int]]
GetCsrf = Callable[[], Awaitable[str]]
Login = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def make_user(sessionmaker: Sessions) -> MakeUser:
    """``await make_user(email, (brand_id, role), ..., is_admin=False)`` → the new user's id."""

    async def make(email: str, *roles: tuple[int, str], is_admin: bool = False) -> int:
        async with transaction(sessionmaker) as session:
            user = await service.create_user(session, email, PASSWORD, is_admin=is_admin)
            for brand_id, role in roles:
                await service.grant_role(session, user.id, brand_id, role)
            return user.id

    return make


@pytest.fixture
def csrf(client: httpx.AsyncClient) -> GetCsrf:
    """``await csrf()`` → the CSRF token of the client's current session."""

    async def get() -> str:
        token: str = (await client.get("/csrf")).json()["csrf_token"]
        return token

    return get


@pytest.fixture
def login(client: httpx.AsyncClient, csrf: GetCsrf) -> Login:
    """``await login(email, password=PASSWORD)`` through the sign-in form, with its CSRF token."""

    async def sign_in(email: str, password: str = PASSWORD) -> httpx.Response:
        data = {"email": email, "password": password, "csrf_token": await csrf()}
        return await client.post("/login", data=data)

    return sign_in
