"""A process that takes rate-limit tokens from one shared key as fast as it is allowed.

    python rate_taker.py --db URL --name A --limiter database|redis --key K \
        --per-second 10 --burst 2 --seconds 3 [--redis-url URL] --barrier DIR --out FILE

It writes the moments (epoch seconds) at which it was granted a token. When refused it sleeps
until the moment the limiter named, as a snoozed job would, instead of spinning.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

from proc_common import base_parser, configure, pass_barrier, write_record
from redis.asyncio import Redis

from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.core.time import utcnow
from finagency.queue.limits import DatabaseRateLimiter, Rate, RateLimiter, RedisRateLimiter


async def main() -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--limiter", choices=("database", "redis"), required=True)
    parser.add_argument("--redis-url")
    parser.add_argument("--key", required=True)
    parser.add_argument("--per-second", type=int, default=10)
    parser.add_argument("--burst", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    configure()
    engine = create_engine(args.db)
    sessions = create_sessionmaker(engine)
    redis = (
        Redis.from_url(args.redis_url, socket_timeout=2, socket_connect_timeout=2)
        if args.limiter == "redis"
        else None
    )
    limiter: RateLimiter = RedisRateLimiter(redis) if redis is not None else DatabaseRateLimiter()
    rate = Rate(args.per_second, timedelta(seconds=1), burst=args.burst)
    granted: list[float] = []
    refused = 0
    try:
        await pass_barrier(args.barrier, args.name)
        deadline = time.monotonic() + args.seconds
        while (left := deadline - time.monotonic()) > 0:
            async with transaction(sessions) as session:
                free_at = await limiter.acquire(session, args.key, rate)
            if free_at is None:
                granted.append(time.time())
                continue
            refused += 1
            wait = (free_at - utcnow()).total_seconds()
            await asyncio.sleep(min(max(wait, 0.001), left))
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()
    write_record(args.out, {"granted": granted, "refused": refused})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
