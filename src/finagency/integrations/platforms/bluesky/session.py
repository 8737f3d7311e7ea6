"""Bluesky XRPC calls with an app-password session: login, refresh on ExpiredToken, typed errors.

Facts from ``reference/platforms.md`` §5: ``com.atproto.server.createSession`` with identifier
and app password returns ``accessJwt``/``refreshJwt``; calls send ``Bearer <accessJwt>``; an
expired access token answers 400 ``{"error": "ExpiredToken"}``; ``refreshSession`` takes the
*refresh* JWT as bearer and returns a new pair. Errors are ``{"error": Name, "message": ...}``;
rate limits come as ``RateLimit-Limit/Remaining/Reset`` (epoch seconds) and
``RateLimit-Policy: <limit>;w=<seconds>``, with 429 ``RateLimitExceeded``.

Every new session (login or refresh) is handed to ``on_credentials`` before it is used, so the
caller stores the tokens even if the retried call then fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import Credentials, CredentialsSaver, RateLimitInfo
from finagency.integrations.platforms.http import (
    epoch,
    excerpt,
    raise_for_status,
    retry_after,
    transport_error,
)

# Error names that mean the credentials (not the request) were refused.
AUTH_ERRORS = frozenset(
    {
        "AuthRequired",
        "AuthMissing",
        "AuthenticationRequired",
        "InvalidToken",
        "ExpiredToken",
        "AccountTakedown",
        "AccountDeactivated",
    }
)
# Answers to refreshSession after which only a new login helps.
_DEAD_REFRESH = frozenset({"ExpiredToken", "InvalidToken", "AuthRequired", "AuthMissing"})


def error_name(response: httpx.Response) -> str:
    """The XRPC ``error`` name of an answer, or "" when the body has none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


def rate_limit(headers: Mapping[str, str]) -> RateLimitInfo | None:
    def number(name: str) -> int | None:
        try:
            return int(headers[name])
        except (KeyError, ValueError):
            return None

    limit, remaining = number("ratelimit-limit"), number("ratelimit-remaining")
    reset_at = epoch(headers.get("ratelimit-reset"))
    if limit is None and remaining is None and reset_at is None:
        return None
    policy = headers.get("ratelimit-policy", "")
    return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at, scope=policy)


def raise_for_xrpc(response: httpx.Response, platform: str) -> None:
    """Map a non-2xx XRPC answer to the typed errors (auth names first: they come as 400)."""
    if response.status_code < 400:
        return
    name = error_name(response)
    what = (
        f"{platform}: HTTP {response.status_code} {name or ''} on "
        f"{response.request.url.path}: {excerpt(response)}"
    )
    if name in AUTH_ERRORS:
        raise AuthExpiredError(what, details={"error": name})
    if response.status_code == 429 or name == "RateLimitExceeded":
        reset_at = epoch(response.headers.get("ratelimit-reset")) or retry_after(response.headers)
        raise RateLimitedExternalError(what, reset_at=reset_at)
    raise_for_status(response, platform)


class XrpcSession:
    """The account's session on its PDS and the one way to call it."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        credentials: Credentials,
        on_credentials: CredentialsSaver | None = None,
        name: str = "bluesky",
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.credentials: Credentials = dict(credentials)
        self.on_credentials = on_credentials
        self.last_rate_limit: RateLimitInfo | None = None

    @property
    def did(self) -> str | None:
        return self.credentials.get("did") or None

    @property
    def handle(self) -> str | None:
        return self.credentials.get("handle") or None

    async def _send(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None,
        params: Mapping[str, str | int | list[str]] | None = None,
        json: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = await self.http.request(
                method,
                f"{self.base_url}/xrpc/{nsid}",
                params=params,
                json=json,
                content=content,
                headers=headers,
            )
        except httpx.HTTPError as error:
            raise transport_error(error, self.name) from error
        self.last_rate_limit = rate_limit(response.headers)
        return response

    async def _store(self, session: Mapping[str, Any]) -> None:
        try:
            tokens = {
                "access_jwt": str(session["accessJwt"]),
                "refresh_jwt": str(session["refreshJwt"]),
            }
        except (KeyError, TypeError) as error:
            raise TransientExternalError(f"{self.name}: session answer without tokens") from error
        self.credentials.update(tokens)
        for ours, theirs in (("did", "did"), ("handle", "handle")):
            if session.get(theirs):
                self.credentials[ours] = str(session[theirs])
        if self.on_credentials is not None:
            await self.on_credentials(dict(self.credentials))

    async def login(self) -> None:
        """createSession with the app password (limited to 30 per 5 minutes: used sparingly)."""
        response = await self._send(
            "POST",
            "com.atproto.server.createSession",
            token=None,
            json={
                "identifier": self.credentials.get("identifier", ""),
                "password": self.credentials.get("app_password", ""),
            },
        )
        raise_for_xrpc(response, self.name)
        await self._store(response.json())

    async def refresh(self) -> None:
        """refreshSession with the refresh JWT; a dead refresh token falls back to a login."""
        refresh_jwt = self.credentials.get("refresh_jwt")
        if not refresh_jwt:
            await self.login()
            return
        response = await self._send("POST", "com.atproto.server.refreshSession", token=refresh_jwt)
        if response.status_code in (400, 401) and error_name(response) in _DEAD_REFRESH:
            await self.login()
            return
        raise_for_xrpc(response, self.name)
        await self._store(response.json())

    async def send(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, str | int | list[str]] | None = None,
        json: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        """An authenticated call, refreshing once on ExpiredToken; the answer is not checked."""
        if not self.credentials.get("access_jwt"):
            await self.login()

        async def attempt() -> httpx.Response:
            return await self._send(
                method,
                nsid,
                token=self.credentials.get("access_jwt"),
                params=params,
                json=json,
                content=content,
                content_type=content_type,
            )

        response = await attempt()
        if error_name(response) == "ExpiredToken":
            await self.refresh()
            response = await attempt()
        return response

    async def call(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, str | int | list[str]] | None = None,
        json: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        """``send`` that raises the typed error on failure and returns the JSON body."""
        response = await self.send(
            method, nsid, params=params, json=json, content=content, content_type=content_type
        )
        raise_for_xrpc(response, self.name)
        return body_of(response, self.name)

    async def ensure_did(self) -> str:
        """The account's DID, from the stored credentials or the session."""
        if not self.did and not self.credentials.get("access_jwt"):
            await self.login()  # the new session names the DID
        if not self.did:
            session = await self.call("GET", "com.atproto.server.getSession")
            self.credentials["did"] = str(session["did"])
            self.credentials["handle"] = str(session.get("handle") or "")
        assert self.did is not None
        return self.did


def body_of(response: httpx.Response, platform: str) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise TransientExternalError(
            f"{platform}: unreadable answer to {response.request.url.path}"
        ) from error
