"""Fixtures for source tests: the real sample payloads under tests/fixtures/real/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "real"


@pytest.fixture
def real_bytes() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (REAL / name).read_bytes()

    return read


@pytest.fixture
def yahoo_chart_body() -> bytes:
    """The chart JSON body inside the recorded Yahoo HTTP exchange."""
    recorded = json.loads(
        (REAL / "yahoo-chart-v8-AAPL-2020-08-31-to-2020-11-07.recorded.json").read_bytes()
    )
    return json.dumps(recorded["response"]["bodyJson"]).encode()
