"""Safe decoding of source bodies (JSON and XML) into values, with typed accessors."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from finagency.integrations.sources.errors import MalformedPayloadError

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def load_json(body: bytes | str, *, what: str) -> Any:
    """Decode a JSON body or raise ``MalformedPayloadError`` naming ``what`` it should be."""
    if not body or not body.strip():
        raise MalformedPayloadError(f"{what}: empty body, expected JSON")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayloadError(f"{what}: body is not valid JSON ({exc})") from exc


def parse_xml(body: bytes | str, *, what: str) -> ET.Element:
    """Parse untrusted XML; documents with a DTD are refused (entity expansion attacks)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise MalformedPayloadError(f"{what}: empty body, expected XML")
    if _DTD.search(raw):
        raise MalformedPayloadError(f"{what}: XML with a DTD or entity declarations is refused")
    try:
        return ET.fromstring(raw)  # noqa: S314 - no DTD, so no entity expansion
    except ET.ParseError as exc:
        raise MalformedPayloadError(f"{what}: body is not well-formed XML ({exc})") from exc


def local_name(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def mapping(value: Any, *, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedPayloadError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def field(obj: Mapping[str, Any], key: str, *, what: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise MalformedPayloadError(f"{what}: missing field {key!r}") from None


def as_list(value: Any, *, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedPayloadError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def as_float(value: Any, *, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedPayloadError(f"{what}: expected a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise MalformedPayloadError(f"{what}: expected a number, got {value!r}") from None


def as_date(value: Any, *, what: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MalformedPayloadError(f"{what}: expected a YYYY-MM-DD date, got {value!r}") from None


def midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
