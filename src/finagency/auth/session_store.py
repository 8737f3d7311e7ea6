"""The server-side session table: create, load, touch, revoke and list browser sessions.

Only SHA-256 of a session id is stored, so a read of the table cannot be replayed as a cookie.
Every function here flushes at most; the caller (middleware, request, CLI) commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.crypto import new_token
from finagency.core.time import utcnow
from finagency.models.auth import UserSession


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives: since its last request (idle) and since sign-in (absolute)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class LoadedSession:
    id_hash: str
    user_id: int | None
    data: dict[str, Any]
    last_seen_at: datetime


async def load(
    db: AsyncSession, session_id: str, lifetimes: Lifetimes, *, now: datetime | None = None
) -> LoadedSession | None:
    """The live session behind ``session_id``; None when unknown, idle too long or expired."""
    now = now or utcnow()
    row = await db.scalar(
        select(UserSession).where(UserSession.id_hash == hash_session_id(session_id))
    )
    if row is None or row.expires_at <= now or now - row.last_seen_at > lifetimes.idle:
        return None
    return LoadedSession(row.id_hash, row.user_id, dict(row.data or {}), row.last_seen_at)


async def create(
    db: AsyncSession,
    *,
    user_id: int | None,
    data: dict[str, Any],
    lifetimes: Lifetimes,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> str:
    """Store a new session and return its id (256 random bits); expired rows are swept first."""
    now = now or utcnow()
    await prune_expired(db, lifetimes, now=now)
    session_id = new_token(32)
    db.add(
        UserSession(
            id_hash=hash_session_id(session_id),
            user_id=user_id,
            data=data,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetimes.absolute,
            ip=ip[:64],
            user_agent=user_agent[:300],
        )
    )
    await db.flush()
    return session_id


async def save(
    db: AsyncSession, id_hash: str, data: dict[str, Any] | None, *, now: datetime | None = None
) -> bool:
    """Touch the session (and replace its data when given); False if it was revoked meanwhile."""
    values: dict[str, Any] = {"last_seen_at": now or utcnow()}
    if data is not None:
        values["data"] = data
    result = await db.execute(
        update(UserSession).where(UserSession.id_hash == id_hash).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def delete_by_hash(db: AsyncSession, id_hash: str) -> None:
    await db.execute(delete(UserSession).where(UserSession.id_hash == id_hash))


async def revoke_user_sessions(
    db: AsyncSession, user_id: int, *, keep_hash: str | None = None
) -> int:
    """End every session of ``user_id`` (but ``keep_hash``); how many ended."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_hash is not None:
        statement = statement.where(UserSession.id_hash != keep_hash)
    result = await db.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_session(db: AsyncSession, user_id: int, session_row_id: int) -> bool:
    """End one of ``user_id``'s sessions by its row id; False when it is not theirs."""
    result = await db.execute(
        delete(UserSession).where(UserSession.id == session_row_id, UserSession.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_all_sessions(db: AsyncSession) -> int:
    """Sign everyone out (an admin's emergency brake)."""
    result = await db.execute(delete(UserSession))
    return int(getattr(result, "rowcount", 0) or 0)


async def list_user_sessions(
    db: AsyncSession, user_id: int, lifetimes: Lifetimes, *, now: datetime | None = None
) -> list[UserSession]:
    """The user's live sessions, most recently used first."""
    now = now or utcnow()
    rows = await db.execute(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.expires_at > now,
            UserSession.last_seen_at >= now - lifetimes.idle,
        )
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(rows.scalars())


async def prune_expired(
    db: AsyncSession, lifetimes: Lifetimes, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    await db.execute(
        delete(UserSession).where(
            or_(UserSession.expires_at <= now, UserSession.last_seen_at < now - lifetimes.idle)
        )
    )
