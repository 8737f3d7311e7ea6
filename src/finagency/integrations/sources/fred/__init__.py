"""FRED (St. Louis Fed) economic series: observations JSON parser and keyed client."""

from finagency.integrations.sources.fred.client import (
    BASE_URL,
    MAX_LIMIT,
    MAX_REQUESTS_PER_SECOND,
    FredClient,
    observations_url,
    redact_api_key,
)
from finagency.integrations.sources.fred.parser import (
    SOURCE,
    parse_observations,
    series_id_from_url,
    series_label,
)

__all__ = [
    "BASE_URL",
    "MAX_LIMIT",
    "MAX_REQUESTS_PER_SECOND",
    "SOURCE",
    "FredClient",
    "observations_url",
    "parse_observations",
    "redact_api_key",
    "series_id_from_url",
    "series_label",
]
