"""The sandbox platform's storage: its own transactions, as an outside platform's would be."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import Account, SandboxPost


class DatabaseSandboxStore:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], account: Account) -> None:
        self.sessionmaker = sessionmaker
        self.account_id = account.id
        self.brand_id = account.brand_id
        self.stands_in_for = account.platform.partition(":")[2] or "x"

    async def insert(self, *, text: str, idempotency_key: str) -> tuple[int, datetime]:
        existing = await self.find(idempotency_key)
        if existing is not None:
            return existing[0], existing[2]
        try:
            async with transaction(self.sessionmaker) as session:
                row = SandboxPost(
                    brand_id=self.brand_id,
                    account_id=self.account_id,
                    stands_in_for=self.stands_in_for,
                    text=text,
                    idempotency_key=idempotency_key,
                    created_at=utcnow(),
                )
                session.add(row)
                await session.flush()
                return row.id, row.created_at
        except IntegrityError:
            # Same key raced in from elsewhere: like Mastodon, answer with the original.
            found = await self.find(idempotency_key)
            assert found is not None
            return found[0], found[2]

    async def find(self, idempotency_key: str) -> tuple[int, str, datetime] | None:
        async with self.sessionmaker() as session:
            row = (
                await session.execute(
                    select(SandboxPost.id, SandboxPost.text, SandboxPost.created_at).where(
                        SandboxPost.account_id == self.account_id,
                        SandboxPost.idempotency_key == idempotency_key,
                    )
                )
            ).first()
            await session.rollback()
        return (row[0], row[1], row[2]) if row else None

    async def created_at(self, external_id: int) -> datetime | None:
        async with self.sessionmaker() as session:
            stamp = await session.scalar(
                select(SandboxPost.created_at).where(
                    SandboxPost.id == external_id, SandboxPost.account_id == self.account_id
                )
            )
            await session.rollback()
        return stamp
