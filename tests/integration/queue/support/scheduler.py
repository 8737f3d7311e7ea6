"""A real scheduler process for the queue tests, firing one recurring test job.

python scheduler.py --db URL --name A --every 2 --leader-ttl 1 --tick 0.1
    leader mode: ``Scheduler.run`` (leader lease, failover) until SIGTERM
python scheduler.py --db URL --name A --every 1 --race 2.5 --out FILE --barrier DIR
    race mode: call ``Scheduler.tick`` as fast as it goes for 2.5 s, with no leader lease,
    and write the job ids this process fired
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import timedelta

from proc_common import base_parser, configure, pass_barrier, write_record

from finagency.core.db import create_engine, create_sessionmaker
from finagency.queue import JobContext, RecurringJob, Scheduler, Task, TaskRegistry

CRON_TASK = "test.cron"
CRON_NAME = "test-tick"


async def noop(ctx: JobContext) -> None:
    return None


async def race(scheduler: Scheduler, seconds: float) -> list[int]:
    fired: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fired += await scheduler.tick()
        await asyncio.sleep(0.005)
    return fired


async def main() -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--leader-ttl", type=float, default=1.0)
    parser.add_argument("--tick", type=float, default=0.1)
    parser.add_argument("--race", type=float, help="seconds of leaderless ticking")
    args = parser.parse_args()
    configure()
    engine = create_engine(args.db)
    scheduler = Scheduler(
        create_sessionmaker(engine),
        TaskRegistry([Task(CRON_TASK, noop)]),
        [RecurringJob(CRON_NAME, CRON_TASK, every_seconds=args.every)],
        tick_seconds=args.tick,
        owner=f"{args.name}:{os.getpid()}",
        leader_ttl=timedelta(seconds=args.leader_ttl),
    )
    try:
        await pass_barrier(args.barrier, args.name)
        if args.race is not None:
            write_record(args.out, {"fired": await race(scheduler, args.race)})
        else:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, scheduler.stop)
            await scheduler.run()
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
