"""The audit API's response shapes: events and the chain's verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
