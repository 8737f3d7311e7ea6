"""The auth domain's public entry: users, passwords, per-brand roles and API tokens (flush only)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.auth import lockout, session_store
from finagency.auth.passwords import dummy_hash, hash_password, validate_password, verify_password
from finagency.auth.permissions import PERMISSIONS, ROLES, has_permission
from finagency.core.crypto import hash_token, new_token
from finagency.core.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.models.brand import ApiToken, Brand, Membership, User

__all__ = [
    "API_TOKEN_PREFIX",
    "LOGIN_FAILED_MESSAGE",
    "TOKEN_FAILED_MESSAGE",
    "api_token_use_is_stale",
    "authenticate",
    "create_api_token",
    "create_user",
    "grant_role",
    "has_permission",
    "normalise_email",
    "record_api_token_use",
    "resolve_api_token",
    "revoke_api_token",
    "revoke_role",
    "roles_for",
    "set_password",
    "temporary_password",
]

log = structlog.get_logger(__name__)

# One message for unknown email, wrong password and disabled account: no account enumeration.
LOGIN_FAILED_MESSAGE = "email or password is incorrect"
TOKEN_FAILED_MESSAGE = "API token is invalid or expired"  # noqa: S105 (a message, not a secret)
# A type prefix lets secret scanners and log redaction recognise our tokens.
API_TOKEN_PREFIX = "fat_"  # noqa: S105 (a public prefix)
_MAX_TOKEN_LENGTH = 200


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased; raises ValidationFailed when it cannot be an address."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or not domain or len(value) > 254 or any(ch.isspace() for ch in value):
        raise ValidationFailed("email address is not valid", details={"field": "email"})
    return value


async def _user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


async def create_user(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    name: str = "",
    is_admin: bool = False,
) -> User:
    """Add a user with an Argon2id password hash; a taken email raises Conflict."""
    address = normalise_email(email)
    validate_password(password)
    if await _user_by_email(session, address) is not None:
        raise Conflict("a user with this email already exists", details={"field": "email"})
    user = User(
        email=address,
        name=name.strip(),
        password_hash=hash_password(password),
        is_admin=is_admin,
        active=True,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        # Lost a race with another request creating the same address.
        raise Conflict(
            "a user with this email already exists", details={"field": "email"}
        ) from None
    log.info("auth.user_created", user_id=user.id, is_admin=is_admin)
    return user


async def set_password(
    session: AsyncSession, user: User, new_password: str, *, keep_session_hash: str | None = None
) -> int:
    """Replace the password and end the user's browser sessions (but ``keep_session_hash``).

    Any lockout on the address ends too. Returns how many sessions were ended.
    """
    validate_password(new_password)
    user.password_hash = hash_password(new_password)
    await session.flush()
    ended = await session_store.revoke_user_sessions(session, user.id, keep_hash=keep_session_hash)
    await lockout.clear(session, user.email)
    log.info("auth.password_changed", user_id=user.id, sessions_ended=ended)
    return ended


def temporary_password() -> str:
    """A random password for ``user reset-password`` (about 120 bits, easy to type)."""
    return "-".join(new_token(5) for _ in range(4))


async def authenticate(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    lockout_policy: lockout.LockoutPolicy | None = None,
) -> User:
    """The user these credentials belong to, or NotAuthenticated with one generic message.

    With a ``lockout_policy``, a locked email raises AccountLocked before any password check,
    and the failure that reaches the threshold raises AccountLocked (``locked_now``) too.
    """
    try:
        address = normalise_email(email)
    except ValidationFailed:
        address = ""
    if lockout_policy is not None and address:
        await lockout.ensure_not_locked(session, address)
    try:
        user = await _check_credentials(session, address, password)
    except NotAuthenticated:
        if lockout_policy is not None and address:
            now = utcnow()
            until = await lockout.record_failure(session, address, lockout_policy, now=now)
            if until is not None:
                raise lockout.locked_error(until, now, locked_now=True) from None
        raise
    if lockout_policy is not None:
        await lockout.clear(session, address)
    return user


async def _check_credentials(session: AsyncSession, address: str, password: str) -> User:
    user = await _user_by_email(session, address) if address else None
    if user is None:
        # Spend the same Argon2 work as for a real account so timing does not reveal emails.
        verify_password(dummy_hash(), password)
        log.info("auth.login_failed", reason="unknown_email")
        raise NotAuthenticated(LOGIN_FAILED_MESSAGE)
    outcome = verify_password(user.password_hash, password)
    if not outcome.ok:
        log.info("auth.login_failed", reason="wrong_password", user_id=user.id)
        raise NotAuthenticated(LOGIN_FAILED_MESSAGE)
    if not user.active:
        log.info("auth.login_failed", reason="inactive", user_id=user.id)
        raise NotAuthenticated(LOGIN_FAILED_MESSAGE)
    if outcome.new_hash is not None:
        user.password_hash = outcome.new_hash
        log.info("auth.password_rehashed", user_id=user.id)
    user.last_login_at = utcnow()
    await session.flush()
    log.info("auth.login_succeeded", user_id=user.id)
    return user


async def grant_role(session: AsyncSession, user_id: int, brand_id: int, role: str) -> Membership:
    """Give ``user_id`` ``role`` on ``brand_id``; granting a role already held is a no-op."""
    if role not in ROLES:
        raise ValidationFailed(
            f"unknown role {role!r}", details={"field": "role", "allowed": sorted(ROLES)}
        )
    if await session.get(User, user_id) is None:
        raise NotFound("user not found")
    if await session.get(Brand, brand_id) is None:
        raise NotFound("brand not found")
    existing = await session.execute(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.brand_id == brand_id,
            Membership.role == role,
        )
    )
    membership = existing.scalar_one_or_none()
    if membership is not None:
        return membership
    membership = Membership(user_id=user_id, brand_id=brand_id, role=role)
    session.add(membership)
    await session.flush()
    log.info("auth.role_granted", user_id=user_id, brand_id=brand_id, role=role)
    return membership


async def revoke_role(session: AsyncSession, user_id: int, brand_id: int, role: str) -> bool:
    """Take ``role`` on ``brand_id`` away from ``user_id``; False when it was not held."""
    result = await session.execute(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.brand_id == brand_id,
            Membership.role == role,
        )
    )
    membership = result.scalar_one_or_none()
    if membership is None:
        return False
    await session.delete(membership)
    await session.flush()
    log.info("auth.role_revoked", user_id=user_id, brand_id=brand_id, role=role)
    return True


async def roles_for(session: AsyncSession, user: User) -> dict[int, set[str]]:
    """Brand id → roles held there; an agency admin holds every role on every brand."""
    if user.is_admin:
        brand_ids = (await session.execute(select(Brand.id))).scalars().all()
        return {brand_id: set(ROLES) for brand_id in brand_ids}
    rows = await session.execute(
        select(Membership.brand_id, Membership.role).where(Membership.user_id == user.id)
    )
    roles: dict[int, set[str]] = {}
    for brand_id, role in rows:
        roles.setdefault(brand_id, set()).add(role)
    return roles


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in PERMISSIONS]
    if not wanted or unknown:
        raise ValidationFailed(
            "API token scopes must be a non-empty list of known permissions",
            details={"field": "scopes", "unknown": unknown, "allowed": sorted(PERMISSIONS)},
        )
    return wanted


async def create_api_token(
    session: AsyncSession,
    user: User,
    name: str,
    scopes: Iterable[str],
    brand_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token; the plaintext is returned this once and only its SHA-256 is stored.

    At use the token can do no more than its owner may: scopes narrow, never widen.
    """
    label = name.strip()
    if not label or len(label) > 100:
        raise ValidationFailed("token name must be 1 to 100 characters", details={"field": "name"})
    checked_scopes = _check_scopes(scopes)
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise ValidationFailed(
            "expires_at must be a timezone-aware time in the future",
            details={"field": "expires_at"},
        )
    if brand_id is not None and brand_id not in await roles_for(session, user):
        raise NotFound("brand not found")
    plaintext = API_TOKEN_PREFIX + new_token(32)
    token = ApiToken(
        user_id=user.id,
        brand_id=brand_id,
        name=label,
        token_hash=hash_token(plaintext),
        scopes=checked_scopes,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    log.info("auth.api_token_created", user_id=user.id, credential_id=token.id, brand_id=brand_id)
    return token, plaintext


async def resolve_api_token(session: AsyncSession, plaintext: str) -> tuple[User, ApiToken]:
    """The active user and unexpired token behind ``plaintext``, or NotAuthenticated."""
    if not plaintext.startswith(API_TOKEN_PREFIX) or len(plaintext) > _MAX_TOKEN_LENGTH:
        raise NotAuthenticated(TOKEN_FAILED_MESSAGE)
    result = await session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext))
    )
    token = result.scalar_one_or_none()
    if token is None:
        log.info("auth.api_token_refused", reason="unknown")
        raise NotAuthenticated(TOKEN_FAILED_MESSAGE)
    if token.expires_at is not None and token.expires_at <= utcnow():
        log.info("auth.api_token_refused", reason="expired", credential_id=token.id)
        raise NotAuthenticated(TOKEN_FAILED_MESSAGE)
    user = await session.get(User, token.user_id)
    if user is None or not user.active:
        log.info("auth.api_token_refused", reason="inactive_user", credential_id=token.id)
        raise NotAuthenticated(TOKEN_FAILED_MESSAGE)
    return user, token


async def record_api_token_use(
    session: AsyncSession, token_id: int, *, at: datetime | None = None
) -> None:
    """Stamp ``last_used_at`` (one UPDATE, so it can run in its own short transaction)."""
    await session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at or utcnow())
    )


def api_token_use_is_stale(token: ApiToken, *, every: timedelta = timedelta(minutes=1)) -> bool:
    """Whether ``last_used_at`` is worth refreshing (avoids a write on every API call)."""
    return token.last_used_at is None or utcnow() - token.last_used_at >= every


async def revoke_api_token(session: AsyncSession, user: User, token_id: int) -> None:
    """Delete one of ``user``'s tokens (an admin may delete anyone's); unknown → NotFound."""
    token = await session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.is_admin):
        raise NotFound("API token not found")
    await session.delete(token)
    await session.flush()
    log.info("auth.api_token_revoked", user_id=user.id, credential_id=token_id)
