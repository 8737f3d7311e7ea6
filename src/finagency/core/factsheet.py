"""Fact sheets: the numbers a piece of content may use, each with its provenance.

A fact sheet is a plain value (no database, no I/O) shared by generators, which must only
use its facts, and by the grounding check, which proves that they did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

FactKind = Literal["price", "percent", "number", "date", "ticker", "rate", "text"]


@dataclass(frozen=True, slots=True)
class Fact:
    """One value a post may state.

    ``key`` is a stable name ("AAPL.close", "AAPL.change_pct", "EUR/USD"); ``value`` is a
    float for numeric kinds, an ISO date string for dates, the symbol for tickers and free
    text for ``text``.
    """

    key: str
    kind: FactKind
    value: float | str
    unit: str = ""  # "USD", "%", "bp", "shares"...
    currency: str | None = None
    as_of: datetime | None = None
    source: str = ""
    retrieved_at: datetime | None = None
    adjusted: bool | None = None
    label: str = ""  # human wording, e.g. "Apple Inc. closing price"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("as_of", "retrieved_at"):
            stamp = data[name]
            data[name] = stamp.isoformat() if stamp is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fact:
        values = dict(data)
        for name in ("as_of", "retrieved_at"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FactSheet:
    """Everything a content item may say, plus the subject it is about."""

    kind: str  # content kind: "market_mover", "news_take", "macro_rate", ...
    subject: str  # headline subject: a ticker, a currency pair, a news title
    facts: tuple[Fact, ...] = ()
    headline: str = ""  # for news: the item's title
    url: str | None = None  # link the post may carry
    tickers: tuple[str, ...] = ()
    built_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Fact | None:
        return next((fact for fact in self.facts if fact.key == key), None)

    def numeric(self) -> list[Fact]:
        return [fact for fact in self.facts if isinstance(fact.value, (int, float))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "facts": [fact.to_dict() for fact in self.facts],
            "headline": self.headline,
            "url": self.url,
            "tickers": list(self.tickers),
            "built_at": self.built_at.isoformat() if self.built_at else None,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FactSheet:
        built = data.get("built_at")
        return cls(
            kind=data["kind"],
            subject=data["subject"],
            facts=tuple(Fact.from_dict(item) for item in data.get("facts", [])),
            headline=data.get("headline", ""),
            url=data.get("url"),
            tickers=tuple(data.get("tickers", [])),
            built_at=datetime.fromisoformat(built) if built else None,
            extra=dict(data.get("extra", {})),
        )
