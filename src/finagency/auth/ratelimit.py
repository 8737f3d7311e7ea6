"""Login rate limiting: an in-memory sliding window per (client IP, email), owned by the app.

Each process keeps its own window, so with N workers an attacker gets up to N times the limit.
A Redis-backed limiter with the same ``hit``/``reset`` interface will replace this when several
processes serve logins; until then this is the documented limit of the protection.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from starlette.applications import Starlette

from finagency.config import Settings

# Sweep expired keys once this many are held, so a spray of distinct emails cannot grow memory
# without bound.
_SWEEP_AT = 10_000


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window_seconds``; refused hits are not stored."""

    def __init__(
        self,
        limit: int,
        window_seconds: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be at least 1 and window_seconds positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def _prune(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window_seconds:
            hits.popleft()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0.0 when it may try now); records nothing."""
        hits = self._hits.get(key)
        if not hits:
            return 0.0
        now = self._clock()
        self._prune(hits, now)
        if len(hits) < self.limit:
            return 0.0
        return max(hits[0] + self.window_seconds - now, 0.0)

    def hit(self, key: str) -> float:
        """Record an attempt; return 0.0 if allowed, else the seconds to wait (nothing recorded)."""
        wait = self.retry_after(key)
        if wait > 0:
            return wait
        if len(self._hits) >= _SWEEP_AT:
            self._sweep()
        self._hits.setdefault(key, deque()).append(self._clock())
        return 0.0

    def reset(self, key: str) -> None:
        """Forget ``key``'s attempts (after a successful login)."""
        self._hits.pop(key, None)

    def _sweep(self) -> None:
        now = self._clock()
        for key in list(self._hits):
            hits = self._hits[key]
            self._prune(hits, now)
            if not hits:
                del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


class LoginRateLimiter:
    """Login attempts per (client IP, email); another account from the same IP is not blocked."""

    def __init__(self, attempts_per_minute: int, *, clock: Callable[[], float] = time.monotonic):
        self._window = SlidingWindowLimiter(attempts_per_minute, 60.0, clock=clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginRateLimiter:
        return cls(settings.security.login_attempts_per_minute)

    @staticmethod
    def key(client_ip: str, email: str) -> str:
        return f"{client_ip}\x00{email.strip().lower()}"

    def hit(self, client_ip: str, email: str) -> float:
        """Count an attempt; 0.0 if it may go ahead, else seconds until one is allowed."""
        return self._window.hit(self.key(client_ip, email))

    def reset(self, client_ip: str, email: str) -> None:
        self._window.reset(self.key(client_ip, email))


def install_login_limiter(app: Starlette, settings: Settings) -> LoginRateLimiter:
    """Give ``app`` its own login limiter (read back by ``enforce_login_rate_limit``)."""
    limiter = LoginRateLimiter.from_settings(settings)
    app.state.login_limiter = limiter
    return limiter
