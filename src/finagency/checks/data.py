"""Loading the checks' bundled word lists and regime profiles (TOML package data), once."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_toml(name: str) -> dict[str, Any]:
    """Parse ``checks/lexicons/<name>.toml``; callers must treat the result as read-only."""
    resource = resources.files("finagency.checks").joinpath("lexicons", f"{name}.toml")
    return tomllib.loads(resource.read_text(encoding="utf-8"))


@cache
def acronyms() -> frozenset[str]:
    """Upper-case words that are common acronyms, never tickers unless a fact sheet says so."""
    data = load_toml("acronyms")
    return frozenset(word.upper() for group in data.values() for word in group["words"])
