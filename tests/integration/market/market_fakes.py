"""A fake web for market tests: URL → answer, served through httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Responder = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeWeb:
    """URL → answer; every request is kept so tests can check conditional headers."""

    routes: dict[str, Responder] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get(str(request.url))
        if answer is None:
            return httpx.Response(404, text="not found")
        return answer(request) if callable(answer) else answer
