"""CoinGecko crypto prices: ``/simple/price`` and ``market_chart`` parsers and client.

Attribution is required wherever CoinGecko data appears: show ``ATTRIBUTION`` (linking
``ATTRIBUTION_URL``) next to the numbers.
"""

from finagency.integrations.sources.coingecko.client import (
    DEMO_BASE_URL,
    DEMO_KEY_HEADER,
    PRO_BASE_URL,
    PRO_KEY_HEADER,
    CoinGeckoClient,
    auth_headers,
    simple_price_url,
)
from finagency.integrations.sources.coingecko.parser import (
    ATTRIBUTION,
    ATTRIBUTION_URL,
    SOURCE,
    coin_symbol,
    parse_market_chart,
    parse_simple_price,
    simple_price_params,
)

__all__ = [
    "ATTRIBUTION",
    "ATTRIBUTION_URL",
    "DEMO_BASE_URL",
    "DEMO_KEY_HEADER",
    "PRO_BASE_URL",
    "PRO_KEY_HEADER",
    "SOURCE",
    "CoinGeckoClient",
    "auth_headers",
    "coin_symbol",
    "parse_market_chart",
    "parse_simple_price",
    "simple_price_params",
    "simple_price_url",
]
