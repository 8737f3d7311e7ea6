"""Peer queues measured in the same run: each a small harness in its documented set-up.

A peer whose packages are missing (install the ``bench`` extra) is skipped and named.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Sequence

from benchmarks._common import note
from benchmarks.peers._base import PeerContext, PeerResult

ALL = ("pgqueuer", "dramatiq", "huey", "celery", "procrastinate", "rq")


def run_peers(
    mode: str, jobs: int, ctx: PeerContext, names: Sequence[str] = ALL
) -> tuple[list[PeerResult], dict[str, str]]:
    """Run each named peer in turn; returns the results and {peer: why it was skipped}."""
    results: list[PeerResult] = []
    skipped: dict[str, str] = {}
    for name in names:
        module = importlib.import_module(f"benchmarks.peers.{name}_peer")
        reason = module.skip_reason()
        if reason is not None:
            skipped[name] = f"package {reason!r} is not installed (pip install -e '.[bench]')"
            note(f"skipping {name}: {skipped[name]}")
            continue
        note(f"running peer {name} ({mode}, {jobs} jobs)…")
        try:
            result = module.run(mode, jobs, ctx)
        except Exception as error:
            skipped[name] = f"failed: {type(error).__name__}: {error}"
            note(f"peer {name} failed:\n{traceback.format_exc()}")
            continue
        results.append(result)
    return results, skipped


def parse_names(value: str) -> list[str]:
    if value in ("", "none"):
        return []
    if value == "all":
        return list(ALL)
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        raise SystemExit(f"unknown peers: {', '.join(unknown)} (known: {', '.join(ALL)})")
    return names
