"""Fixtures for market tests: real sample payloads served by an httpx MockTransport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from market_fakes import FakeWeb

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"


@pytest.fixture
def real() -> Callable[[str], bytes]:
    """Bytes of a real sample file; the Yahoo recording yields its chart body, as the API
    returns it."""

    def read(name: str) -> bytes:
        body = (REAL / name).read_bytes()
        if name.endswith(".recorded.json"):
            return json.dumps(json.loads(body)["response"]["bodyJson"]).encode()
        return body

    return read


@pytest.fixture
def web() -> FakeWeb:
    return FakeWeb()


@pytest.fixture
async def http(web: FakeWeb) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(web.handle)) as client:
        yield client
