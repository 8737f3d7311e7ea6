"""B7: parse and dedupe RSS/Atom items from the sample feeds (target ≥ 2,000 items/s).

Dedupe is what ingestion does before storing: canonical-URL hash, title hash and a SimHash
near-duplicate test against what was seen. Run: python -m benchmarks.ingestion [--rounds 50]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from benchmarks._common import emit, machine, print_table
from finagency.core.simhash import is_near_duplicate, signature
from finagency.core.text import canonical_url, content_hash
from finagency.integrations.sources import parse_feed, parse_filings_atom

DATA = Path(__file__).resolve().parents[1] / "src" / "finagency" / "demo" / "data"
FEEDS = {
    "sec-press-releases-2025-01.rss.xml": parse_feed,
    "sec-edgar-browse-getcompany-CIK0001844419.atom.xml": parse_filings_atom,
}


def run(rounds: int) -> tuple[float, int, int]:
    bodies = [(parser, (DATA / name).read_bytes()) for name, parser in FEEDS.items()]
    items = kept = 0
    started = time.perf_counter()
    for _ in range(rounds):
        seen_urls: set[str] = set()
        seen_titles: set[str] = set()
        signatures: list[int] = []
        for parser, body in bodies:
            for entry in parser(body, source="bench"):
                items += 1
                url_key = hashlib.sha256(canonical_url(entry.url).encode()).hexdigest()
                title_key = content_hash(entry.title)
                if url_key in seen_urls or title_key in seen_titles:
                    continue
                sig = signature(entry.title)
                if any(is_near_duplicate(sig, other) for other in signatures[-500:]):
                    continue
                seen_urls.add(url_key)
                seen_titles.add(title_key)
                signatures.append(sig)
                kept += 1
    return items / (time.perf_counter() - started), items, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    rate, items, kept = run(args.rounds)
    print_table(
        "B7 ingestion: parse + dedupe",
        ["items", "kept", "items/s", "target"],
        [[f"{items:,}", f"{kept:,}", f"{rate:,.0f}", "≥ 2,000"]],
    )
    emit({"bench": "B7", "items": items, "items_per_s": round(rate), "machine": machine()})


if __name__ == "__main__":
    main()
