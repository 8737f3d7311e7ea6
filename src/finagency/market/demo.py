"""The demo's market sources: historical sample files shipped in ``finagency/demo/data``.

A demo source's URL is ``demo:<file name>``, a bare file name inside that packaged folder
(no paths). It is the only non-HTTP scheme sources accept, and only when the caller asks
for it (``allow_files=True``): a ``file:`` URL would let whoever configures sources read
any file the server can. Files are found with ``importlib.resources``, so the demo works
from a wheel as well as from a checkout.
"""

from __future__ import annotations

import asyncio
import json
from importlib.resources import files
from importlib.resources.abc import Traversable

from finagency.core.errors import ValidationFailed
from finagency.integrations.sources import MalformedPayloadError

DEMO_SCHEME = "demo"
_PACKAGE = "finagency"
_FOLDER = ("demo", "data")
# Recorded HTTP exchanges keep the payload under response.bodyJson (see the data README).
_RECORDED_SUFFIX = ".recorded.json"

DEMO_SOURCES: list[tuple[str, str, str]] = [
    ("SEC press releases (demo)", "rss", "demo:sec-press-releases-2025-01.rss.xml"),
    (
        "EDGAR filings: Maquia Capital Acquisition (demo)",
        "edgar_atom",
        "demo:sec-edgar-browse-getcompany-CIK0001844419.atom.xml",
    ),
    ("ECB euro reference rates (demo)", "ecb_daily", "demo:ecb-eurofxref-daily-2016-01-29.xml"),
    (
        "US Treasury par yield curve (demo)",
        "treasury_yield",
        "demo:treasury-yield-curve-entry-properties-2022-02-01.fragment.xml",
    ),
    (
        "Yahoo chart: AAPL (demo)",
        "yahoo_chart",
        "demo:yahoo-chart-v8-AAPL-2020-08-31-to-2020-11-07.recorded.json",
    ),
]
"""(name, kind, url) of each demo source, as ``ensure_demo_sources`` creates them."""


def is_demo_url(url: str) -> bool:
    return url.startswith(f"{DEMO_SCHEME}:")


def demo_file(url: str) -> Traversable:
    """The packaged file a ``demo:`` URL names; ``ValidationFailed`` if there is none."""
    name = url.removeprefix(f"{DEMO_SCHEME}:")
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValidationFailed(f"{url!r}: a demo URL names one file, like 'demo:file.xml'")
    resource = files(_PACKAGE).joinpath(*_FOLDER, name)
    if not resource.is_file():
        raise ValidationFailed(f"{url!r}: no such demo file in finagency/demo/data")
    return resource


def _unwrap_recorded(body: bytes, name: str) -> bytes:
    try:
        recorded = json.loads(body)
        payload = recorded["response"]["bodyJson"]
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedPayloadError(
            f"demo file {name}: not a recorded exchange ({error})"
        ) from None
    return json.dumps(payload).encode()


async def read_demo_file(url: str) -> bytes:
    """The body a live fetch of this source would have returned."""
    resource = demo_file(url)
    body = await asyncio.to_thread(resource.read_bytes)
    if resource.name.endswith(_RECORDED_SUFFIX):
        return _unwrap_recorded(body, resource.name)
    return body
