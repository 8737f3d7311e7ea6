"""B6: template generation plus every check per post, and the checks alone, on one core.

Targets (reference/performance.md): ≥ 500 posts/s generated and checked; checks ≥ 5,000 posts/s.
Run: python -m benchmarks.content_pipeline [--posts 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from benchmarks._common import emit, machine, print_table
from finagency.checks.service import CheckContext, run_checks
from finagency.content.generation import draft_variants
from finagency.core.factsheet import Fact, FactSheet
from finagency.integrations.llm.template import TemplateGenerator

AS_OF = datetime(2020, 11, 6, 21, tzinfo=UTC)
DISCLOSURE = "Not investment advice. Capital at risk."


def sheet() -> FactSheet:
    return FactSheet(
        kind="market_mover",
        subject="AAPL",
        tickers=("AAPL",),
        facts=(
            Fact(
                "AAPL.close",
                "price",
                118.69,
                unit="USD",
                currency="USD",
                as_of=AS_OF,
                source="yahoo",
            ),
            Fact("AAPL.change_pct", "percent", -0.2857, unit="%", as_of=AS_OF, source="yahoo"),
            Fact(
                "AAPL.prev_close",
                "price",
                119.03,
                unit="USD",
                currency="USD",
                as_of=AS_OF,
                source="yahoo",
            ),
            Fact("AAPL.volume", "number", 114457900.0, unit="shares", as_of=AS_OF, source="yahoo"),
        ),
        built_at=AS_OF,
    )


async def generate_and_check(posts: int) -> tuple[float, list[str]]:
    generator, facts = TemplateGenerator(), sheet()
    texts: list[str] = []
    started = time.perf_counter()
    for seed in range(posts):
        [(_, variant)] = await draft_variants(
            generator, facts, ["linkedin"], seed=seed, disclosure=DISCLOSURE
        )
        context = CheckContext(
            factsheet=facts, platform="linkedin", now=AS_OF, required_disclosures=(DISCLOSURE,)
        )
        run_checks(variant.text, context)
        texts.append(variant.text)
    return posts / (time.perf_counter() - started), texts


def checks_only(texts: list[str]) -> float:
    facts = sheet()
    context = CheckContext(
        factsheet=facts, platform="x", now=AS_OF, required_disclosures=(DISCLOSURE,)
    )
    started = time.perf_counter()
    for text in texts:
        run_checks(text, context)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    pipeline, texts = asyncio.run(generate_and_check(args.posts))
    checks = checks_only(texts)
    print_table(
        f"B6 content pipeline, {args.posts} posts, one core",
        ["measure", "posts/s", "target"],
        [
            ["generate + all checks", f"{pipeline:,.0f}", "≥ 500"],
            ["all checks alone", f"{checks:,.0f}", "≥ 5,000"],
        ],
    )
    emit(
        {
            "bench": "B6",
            "posts": args.posts,
            "pipeline_per_s": round(pipeline),
            "checks_per_s": round(checks),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
