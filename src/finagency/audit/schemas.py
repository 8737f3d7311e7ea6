"""The audit API's response shapes: events and the chain's verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int | None
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]
    note: str
    hash: str


class ChainReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ok: bool
    checked: int
    first_bad_id: int | None
    problem: str
    last_good_id: int | None = None
    pruned_through_id: int | None = None


class LegalHoldCreate(BaseModel):
    brand_id: int | None = Field(None, description="None: an agency-wide hold (admins only)")
    reason: str = Field(min_length=1, max_length=2000)


class LegalHoldRelease(BaseModel):
    note: str = Field("", max_length=2000)


class LegalHoldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int | None
    reason: str
    set_by: str
    set_at: datetime
    released_by: str | None
    released_at: datetime | None
