"""OIDC single sign-on as a relying party: authorization code flow with PKCE, state and nonce.

Every request to the provider (discovery, JWKS, token, userinfo) goes through the guarded HTTP
client the caller passes in, so the provider's URLs obey the same egress policy as any other
admin-configured URL. Authlib supplies the PKCE helpers and the ID-token claim rules
(``CodeIDToken``: iss, aud, exp, iat, nonce, at_hash); joserfc checks the signature against the
provider's JWKS with an asymmetric-only algorithm allow list (never ``none`` or HMAC).

Users are keyed on (issuer, subject). A first sign-in links to the local user with the same
*verified* email, or creates one when the settings allow it; see docs/security.md.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError as JoseRfcError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.auth import service
from finagency.auth.permissions import ROLES
from finagency.config import SecuritySettings
from finagency.core.errors import AppError, NotAuthenticated
from finagency.core.time import utcnow
from finagency.models.auth import OidcIdentity
from finagency.models.brand import Brand, User

log = structlog.get_logger(__name__)

SESSION_KEY = "oidc"
# Asymmetric algorithms only: an HMAC "signature" keyed with the public client id proves nothing.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
FLOW_TTL_SECONDS = 600
_METADATA_TTL_SECONDS = 300


class OidcError(NotAuthenticated):
    """Sign-in through the provider failed; the message is safe to show."""

    code = "oidc_failed"


@dataclass(frozen=True)
class OidcConfig:
    provider_name: str
    discovery_url: str
    issuer: str | None
    client_id: str
    client_secret: str
    allowed_domains: tuple[str, ...]
    create_users: bool
    default_role: str | None
    default_brand: str | None

    @classmethod
    def from_settings(cls, security: SecuritySettings) -> OidcConfig | None:
        """None when single sign-on is not configured."""
        if not security.oidc_client_id or not (security.oidc_discovery_url or security.oidc_issuer):
            return None
        discovery = security.oidc_discovery_url or (
            (security.oidc_issuer or "").rstrip("/") + "/.well-known/openid-configuration"
        )
        secret = security.oidc_client_secret
        return cls(
            provider_name=security.oidc_provider_name,
            discovery_url=discovery,
            issuer=security.oidc_issuer,
            client_id=security.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else "",
            allowed_domains=tuple(
                d.strip().lower().lstrip("@") for d in security.oidc_allowed_domains
            ),
            create_users=security.oidc_create_users,
            default_role=security.oidc_default_role,
            default_brand=security.oidc_default_brand,
        )


@dataclass(frozen=True)
class Verified:
    """What the provider vouched for, after every check passed."""

    issuer: str
    subject: str
    email: str
    email_verified: bool


class OidcClient:
    """Talks to one provider through ``http`` (the guarded client); caches its metadata."""

    def __init__(self, config: OidcConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0

    async def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.get(url, **kwargs)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError, AppError) as error:
            log.warning("auth.oidc_fetch_failed", url=url, error=type(error).__name__)
            raise OidcError("the sign-in provider could not be reached; try again later") from None
        if not isinstance(data, dict):
            raise OidcError("the sign-in provider sent an unexpected answer")
        return data

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > _METADATA_TTL_SECONDS:
            data = await self._get_json(self.config.discovery_url)
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(key), str):
                    raise OidcError(f"the provider's discovery document lacks {key!r}")
            if self.config.issuer and data["issuer"] != self.config.issuer:
                raise OidcError("the provider's discovery document names another issuer")
            self._metadata, self._metadata_at = data, time.monotonic()
        return self._metadata

    async def begin(self, redirect_uri: str, session_data: dict[str, Any], next_path: str) -> str:
        """The provider URL to send the browser to; the flow's secrets go into the session."""
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        session_data[SESSION_KEY] = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri,
            "next": next_path,
            "started": int(time.time()),
        }
        query = urlencode(
            {
                "response_type": "code",
                "response_mode": "query",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        endpoint: str = metadata["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def finish(
        self, session_data: dict[str, Any], params: dict[str, str]
    ) -> tuple[Verified, str]:
        """Check the callback against the session's flow and return the verified identity.

        The flow is removed from the session first, so a state can never be used twice.
        Returns the identity and the path to go back to.
        """
        flow = session_data.pop(SESSION_KEY, None)
        if not isinstance(flow, dict):
            raise OidcError("this sign-in was not started here or has already been used")
        if params.get("error"):
            raise OidcError(f"the provider refused the sign-in ({params['error'][:100]})")
        state = params.get("state", "")
        if not state or not hmac.compare_digest(state.encode(), str(flow["state"]).encode()):
            raise OidcError("the sign-in response does not match this browser's sign-in")
        if time.time() - int(flow["started"]) > FLOW_TTL_SECONDS:
            raise OidcError("the sign-in took too long; start again")
        metadata = await self.metadata()
        if params.get("iss") and params["iss"] != metadata["issuer"]:
            raise OidcError("the sign-in response came from another issuer")
        code = params.get("code")
        if not code:
            raise OidcError("the provider sent no authorization code")
        token = await self._exchange(metadata, code, flow)
        claims = await self._verify_id_token(metadata, token, str(flow["nonce"]))
        email, verified = claims.get("email"), claims.get("email_verified")
        if (not email or verified is None) and isinstance(metadata.get("userinfo_endpoint"), str):
            info = await self._get_json(
                metadata["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            if info.get("sub") != claims["sub"]:
                raise OidcError("the provider's user info names another user")
            email, verified = info.get("email", email), info.get("email_verified", verified)
        identity = Verified(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=str(email or ""),
            email_verified=verified is True or verified == "true",
        )
        return identity, str(flow.get("next") or "/")

    async def _exchange(
        self, metadata: dict[str, Any], code: str, flow: dict[str, Any]
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": str(flow["redirect_uri"]),
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "code_verifier": str(flow["verifier"]),
        }
        try:
            response = await self.http.post(metadata["token_endpoint"], data=form)
            token = response.json()
        except (httpx.HTTPError, ValueError, AppError) as error:
            log.warning("auth.oidc_token_failed", error=type(error).__name__)
            raise OidcError("the sign-in provider could not be reached; try again later") from None
        if response.status_code != 200 or not isinstance(token, dict):
            log.warning("auth.oidc_token_refused", status=response.status_code)
            raise OidcError("the provider did not accept the sign-in; start again")
        if not isinstance(token.get("id_token"), str) or not isinstance(
            token.get("access_token"), str
        ):
            raise OidcError("the provider sent no ID token")
        return token

    async def _verify_id_token(
        self, metadata: dict[str, Any], token: dict[str, Any], nonce: str
    ) -> dict[str, Any]:
        jwks = await self._get_json(metadata["jwks_uri"])
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in offered if alg in ALLOWED_ALGORITHMS]
        try:
            keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            decoded = jwt.decode(
                token["id_token"], keys, registry=JWSRegistry(algorithms=algorithms)
            )
        except (JoseRfcError, ValueError, KeyError, TypeError) as error:
            log.warning("auth.oidc_bad_id_token", reason=type(error).__name__)
            raise OidcError("the provider's ID token failed its signature check") from None
        audience = decoded.claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.config.client_id not in audiences:
            log.warning("auth.oidc_bad_id_token", reason="aud")
            raise OidcError("the provider's ID token was refused (issued for another 'aud')")
        issuer = self.config.issuer or metadata["issuer"]
        claims = CodeIDToken(
            dict(decoded.claims),
            dict(decoded.header),
            {"iss": {"essential": True, "value": issuer}},
            {
                "nonce": nonce,
                "client_id": self.config.client_id,
                "access_token": token["access_token"],
            },
        )
        try:
            claims.validate(leeway=60)
        except JoseRfcError as error:
            log.warning("auth.oidc_bad_id_token", reason=error.error, detail=error.description)
            detail = str(error.description or error.error)[:120]
            raise OidcError(f"the provider's ID token was refused ({detail})") from None
        if not claims.get("sub"):
            raise OidcError("the provider's ID token names no user")
        return dict(claims)


def _domain_allowed(config: OidcConfig, email: str) -> bool:
    if not config.allowed_domains:
        return True
    return email.rpartition("@")[2].lower() in config.allowed_domains


async def resolve_user(
    session: AsyncSession, config: OidcConfig, identity: Verified
) -> tuple[User, str]:
    """The local user for ``identity`` and how it was found: linked, matched or created."""
    if not identity.email or not identity.email_verified:
        raise OidcError("the provider did not vouch for your email address")
    email = service.normalise_email(identity.email)
    if not _domain_allowed(config, email):
        raise OidcError("your email domain may not sign in here")
    link = await session.scalar(
        select(OidcIdentity).where(
            OidcIdentity.issuer == identity.issuer, OidcIdentity.subject == identity.subject
        )
    )
    how = "linked"
    user = await session.get(User, link.user_id) if link is not None else None
    if user is None:
        user = await session.scalar(select(User).where(User.email == email))
        how = "matched"
        if user is None:
            if not config.create_users:
                raise OidcError("there is no account for your email here; ask an admin")
            user = await _create_user(session, config, email)
            how = "created"
        link = OidcIdentity(user_id=user.id, issuer=identity.issuer, subject=identity.subject)
        session.add(link)
    if not user.active:
        raise OidcError("this account is disabled")
    assert link is not None
    link.email = email
    link.last_login_at = user.last_login_at = utcnow()
    await session.flush()
    log.info("auth.oidc_login", user_id=user.id, how=how)
    return user, how


async def _create_user(session: AsyncSession, config: OidcConfig, email: str) -> User:
    # A random password nobody knows: the account signs in through the provider only.
    user = await service.create_user(session, email, service.temporary_password() + "-sso")
    if config.default_role in ROLES and config.default_brand:
        brand_id = await session.scalar(select(Brand.id).where(Brand.slug == config.default_brand))
        if brand_id is not None:
            await service.grant_role(session, user.id, brand_id, config.default_role)
    return user
