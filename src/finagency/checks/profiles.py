"""Regime profiles: which lexicon categories apply at what severity, which disclosures are due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, cast

from finagency.checks.data import load_toml
from finagency.checks.types import Severity

_SEVERITIES: frozenset[str] = frozenset({"block", "review", "info"})


class UnknownProfile(KeyError):
    """Raised for a profile name that is not shipped; the caller chose it, so it is a bug."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    id: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    categories: Mapping[str, Severity]
    required: tuple[str, ...]
    required_by_kind: Mapping[str, tuple[str, ...]]
    triggered: Mapping[str, tuple[str, ...]]
    require_firm_name: bool
    missing_disclosure: Severity
    allow_threads: bool

    def required_for(self, content_kind: str, hit_categories: set[str]) -> tuple[str, ...]:
        """Disclosure ids due for a post of this kind that tripped these lexicon categories."""
        ids = list(self.required) + list(self.required_by_kind.get(content_kind, ()))
        for category in sorted(hit_categories):
            ids.extend(self.triggered.get(category, ()))
        return tuple(dict.fromkeys(ids))


def _severity(value: object, where: str) -> Severity:
    if value not in _SEVERITIES:
        raise ValueError(f"{where}: severity must be block, review or info, not {value!r}")
    return cast(Severity, value)


def _ids(values: object) -> tuple[str, ...]:
    return tuple(str(value) for value in cast(list[Any], values))


@cache
def disclosures() -> Mapping[str, Disclosure]:
    """Every standard disclosure text shipped with the profiles, by id."""
    raw = load_toml("profiles")["disclosures"]
    return MappingProxyType(
        {
            key: Disclosure(key, str(item["text"]), str(item.get("source", "")))
            for key, item in raw.items()
        }
    )


@cache
def profiles() -> Mapping[str, Profile]:
    """All shipped regime profiles by name, validated against the disclosures they cite."""
    known = disclosures()
    loaded: dict[str, Profile] = {}
    for name, raw in load_toml("profiles")["profiles"].items():
        profile = Profile(
            name=name,
            title=str(raw["title"]),
            categories=MappingProxyType(
                {cat: _severity(sev, f"{name}.{cat}") for cat, sev in raw["categories"].items()}
            ),
            required=_ids(raw.get("required", [])),
            required_by_kind=MappingProxyType(
                {kind: _ids(ids) for kind, ids in raw.get("required_by_kind", {}).items()}
            ),
            triggered=MappingProxyType(
                {cat: _ids(ids) for cat, ids in raw.get("triggered", {}).items()}
            ),
            require_firm_name=bool(raw.get("require_firm_name", False)),
            missing_disclosure=_severity(raw.get("missing_disclosure", "block"), f"{name}.missing"),
            allow_threads=bool(raw.get("allow_threads", True)),
        )
        cited = profile.required_for("", set(profile.triggered)) + tuple(
            ident for ids in profile.required_by_kind.values() for ident in ids
        )
        unknown = [ident for ident in cited if ident not in known]
        if unknown:
            raise ValueError(f"profile {name} cites unknown disclosures {unknown}")
        loaded[name] = profile
    return MappingProxyType(loaded)


def get_profile(name: str) -> Profile:
    try:
        return profiles()[name]
    except KeyError:
        raise UnknownProfile(
            f"unknown regime profile {name!r}; known: {sorted(profiles())}"
        ) from None
