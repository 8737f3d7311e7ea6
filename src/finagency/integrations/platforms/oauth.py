"""OAuth 2.0 authorization code with PKCE, token refresh, and a bearer session that refreshes itself.

The helpers are shared by the platforms that use OAuth 2.0 user tokens (X, LinkedIn). Token
endpoints answer with RFC 6749 JSON (``access_token``, ``expires_in``, ``refresh_token``...),
and failures are translated into the typed errors: a refused grant means the account must be
reconnected (``AuthExpiredError``), 5xx and transport failures are transient.

``expires_at`` is kept in the credentials as an ISO-8601 UTC string; epoch seconds are read too.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import Credentials, CredentialsSaver
from finagency.integrations.platforms.http import excerpt, retry_after, transport_error

# "basic": client_id:client_secret in an Authorization header (X confidential clients);
# "body": both as form fields (LinkedIn).
ClientAuth = Literal["basic", "body"]
REFRESH_LEEWAY = timedelta(minutes=5)
_REFUSED_GRANT = ("invalid_grant", "invalid_client", "invalid_request", "unauthorized_client")


def new_pkce() -> tuple[str, str]:
    """A fresh PKCE pair: (code_verifier, S256 code_challenge), both base64url without padding."""
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def new_state() -> str:
    """An unguessable ``state`` value to tie the callback to the request that started it."""
    return secrets.token_urlsafe(32)


def authorization_url(
    authorize_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: tuple[str, ...] | list[str],
    state: str,
    code_challenge: str | None = None,
) -> str:
    """The URL to send the person to; PKCE is added when ``code_challenge`` is given."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    if code_challenge is not None:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    separator = "&" if "?" in authorize_url else "?"
    return f"{authorize_url}{separator}{urlencode(params)}"


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint granted."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str = ""

    def merged_into(self, credentials: Mapping[str, str]) -> Credentials:
        """The old credentials with these tokens in place (a refresh token not re-issued is kept)."""
        merged = dict(credentials)
        merged["access_token"] = self.access_token
        if self.refresh_token:
            merged["refresh_token"] = self.refresh_token
        if self.expires_at is not None:
            merged["expires_at"] = self.expires_at.isoformat()
        else:
            merged.pop("expires_at", None)
        return merged


def parse_expires_at(value: str | None) -> datetime | None:
    """``expires_at`` from credentials: ISO-8601 or epoch seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def exchange_code(
    http: httpx.AsyncClient,
    token_url: str,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    code_verifier: str | None = None,
    client_secret: str | None = None,
    client_auth: ClientAuth = "basic",
    platform: str = "oauth",
) -> TokenSet:
    """Trade the callback's ``code`` (and the PKCE verifier) for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return await _token_request(
        http, token_url, form, client_id, client_secret, client_auth, platform
    )


async def refresh(
    http: httpx.AsyncClient,
    token_url: str,
    refresh_token: str,
    client_id: str,
    client_secret: str | None = None,
    *,
    client_auth: ClientAuth = "basic",
    platform: str = "oauth",
) -> TokenSet:
    """New tokens for a refresh token; ``AuthExpiredError`` when the grant is refused."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await _token_request(
        http, token_url, form, client_id, client_secret, client_auth, platform
    )


async def _token_request(
    http: httpx.AsyncClient,
    token_url: str,
    form: dict[str, str],
    client_id: str,
    client_secret: str | None,
    client_auth: ClientAuth,
    platform: str,
) -> TokenSet:
    form["client_id"] = client_id  # public clients identify themselves in the body
    auth: httpx.BasicAuth | None = None
    if client_secret is not None:
        if client_auth == "basic":
            auth = httpx.BasicAuth(client_id, client_secret)
        else:
            form["client_secret"] = client_secret
    try:
        response = await http.post(token_url, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
    except httpx.HTTPError as error:
        raise transport_error(error, platform) from error
    body = _json_object(response)
    what = f"{platform}: token endpoint answered HTTP {response.status_code}: {excerpt(response)}"
    if response.status_code == 429:
        raise RateLimitedExternalError(what, reset_at=retry_after(response.headers))
    if response.status_code >= 500:
        raise TransientExternalError(what)
    if response.status_code in (400, 401) and (
        response.status_code == 401 or body.get("error") in _REFUSED_GRANT
    ):
        raise AuthExpiredError(what)
    if response.status_code >= 400 or not isinstance(body.get("access_token"), str):
        raise PermanentExternalError(what)
    expires_in = body.get("expires_in")
    expires_at = (
        utcnow() + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float)
        else None
    )
    new_refresh = body.get("refresh_token")
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=new_refresh if isinstance(new_refresh, str) else None,
        expires_at=expires_at,
        scope=str(body.get("scope", "")),
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class BearerSession:
    """One account's bearer token: sends requests with it and refreshes it when it is due.

    It refreshes before a request when ``expires_at`` is within five minutes, and once after a
    401; new credentials go to ``on_credentials`` before the request is retried (once). Without
    a refresh token and client id a 401 is simply returned for the client to translate.
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        http: httpx.AsyncClient,
        *,
        token_url: str,
        platform: str,
        on_credentials: CredentialsSaver | None = None,
        client_auth: ClientAuth = "basic",
    ) -> None:
        self.credentials: Credentials = dict(credentials)
        self.http = http
        self.token_url = token_url
        self.platform = platform
        self.on_credentials = on_credentials
        self.client_auth: ClientAuth = client_auth
        self._lock = asyncio.Lock()

    @property
    def can_refresh(self) -> bool:
        return bool(self.credentials.get("refresh_token") and self.credentials.get("client_id"))

    def _due(self) -> bool:
        expires_at = parse_expires_at(self.credentials.get("expires_at"))
        return expires_at is not None and expires_at - utcnow() <= REFRESH_LEEWAY

    async def refresh(self, stale_token: str | None = None) -> None:
        """Refresh now, unless another call already replaced ``stale_token``."""
        async with self._lock:
            if stale_token is not None and self.credentials["access_token"] != stale_token:
                return
            tokens = await refresh(
                self.http,
                self.token_url,
                self.credentials["refresh_token"],
                self.credentials["client_id"],
                self.credentials.get("client_secret") or None,
                client_auth=self.client_auth,
                platform=self.platform,
            )
            self.credentials = tokens.merged_into(self.credentials)
            if self.on_credentials is not None:
                await self.on_credentials(dict(self.credentials))

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with the bearer token; transport failures become ``TransientExternalError``."""
        if self.can_refresh and self._due():
            await self.refresh(self.credentials["access_token"])
        token = self.credentials["access_token"]
        response = await self._send(method, url, token, headers, kwargs)
        if response.status_code == 401 and self.can_refresh:
            await self.refresh(token)
            response = await self._send(
                method, url, self.credentials["access_token"], headers, kwargs
            )
        return response

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        headers: Mapping[str, str] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        merged = {**(headers or {}), "Authorization": f"Bearer {token}"}
        try:
            return await self.http.request(method, url, headers=merged, **kwargs)
        except httpx.HTTPError as error:
            raise transport_error(error, self.platform) from error
