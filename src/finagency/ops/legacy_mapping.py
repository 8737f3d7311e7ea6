"""The declarative mapping of ``finagency import``: which legacy table becomes which finagency
record, and which column fills which field (``deploy/legacy-mapping.example.yaml``).

Everything about a mapping that can be wrong is found here, before any row is written: unknown
fields, missing links, unknown platforms or time zones, and tables or columns the legacy files do
not have.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from finagency.core.errors import BadRequest
from finagency.integrations.platforms.registry import PLATFORMS

Target = Literal["content", "post", "engagement"]

# What each target accepts, and which of its fields are datetimes or counts.
FIELDS: dict[str, set[str]] = {
    "content": {"title", "text", "kind", "created_at"},
    "post": {
        "content",
        "platform",
        "text",
        "status",
        "scheduled_at",
        "published_at",
        "external_id",
        "external_url",
        "failure_reason",
        "created_at",
    },
    "engagement": {"post", "at", "likes", "reposts", "replies", "impressions", "clicks"},
}
REQUIRED: dict[str, set[str]] = {
    "content": {"text"},
    "post": {"platform", "text"},
    "engagement": {"post"},
}
DATETIMES = {"created_at", "scheduled_at", "published_at", "at"}
COUNTS = {"likes", "reposts", "replies", "impressions", "clicks"}
REFS = {"content", "post"}


class ImportMappingError(BadRequest):
    code = "import_mapping_invalid"


class FieldSpec(BaseModel):
    """Where one finagency field comes from: a column, translated values, a default, a link."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    values: dict[str, str] = Field(default_factory=dict)
    default: str | int | None = None
    # For links: the mapping entry (``name``) whose imported rows the column's value names.
    ref: str | None = None


class TableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    into: Target
    key: str
    # The ledger's name for this source; rows of files matched by one entry share keys.
    name: str = ""
    fields: dict[str, str | FieldSpec]

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        self.name = self.name or self.table
        # One spec object per field, built once (rows ask for them hundreds of thousands of times).
        self.fields = {
            name: FieldSpec(column=raw) if isinstance(raw, str) else raw
            for name, raw in self.fields.items()
        }
        unknown = set(self.fields) - FIELDS[self.into]
        if unknown:
            raise ValueError(f"{self.table}: {self.into} has no field(s) {sorted(unknown)}")
        missing = REQUIRED[self.into] - set(self.fields)
        if missing:
            raise ValueError(f"{self.table}: {self.into} needs field(s) {sorted(missing)}")
        for name in REFS & set(self.fields):
            spec = self.spec(name)
            if spec.ref is None:
                raise ValueError(f"{self.table}: field {name!r} links rows and needs 'ref'")
        return self

    def spec(self, name: str) -> FieldSpec:
        raw = self.fields[name]
        return FieldSpec(column=raw) if isinstance(raw, str) else raw  # normalised by _check

    def columns(self) -> set[str]:
        wanted = {self.key}
        for name in self.fields:
            column = self.spec(name).column
            if column:
                wanted.add(column)
        return wanted


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: str  # a file-name pattern, e.g. "posting_queue*.db"
    tables: list[TableSpec]


class AccountSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str
    handle: str

    @model_validator(mode="after")
    def _known(self) -> AccountSpec:
        if self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}; one of {sorted(PLATFORMS)}")
        return self


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand: str
    timezone: str = "UTC"
    # Legacy platform value (e.g. "twitter") -> the brand's account that posts are for.
    accounts: dict[str, AccountSpec] = Field(default_factory=dict)
    files: list[FileSpec]

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ImportMappingError(f"unknown timezone {self.timezone!r}") from error


def load_mapping(path: Path) -> Mapping:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ImportMappingError(f"cannot read mapping {path}: {error}") from error
    try:
        return Mapping.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ImportMappingError(f"mapping {path} is invalid: {problems}") from error


def open_legacy(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def plan(mapping: Mapping, files: list[Path]) -> list[tuple[Path, FileSpec]]:
    """Pair each file with its mapping entry and check tables and columns before any write.

    Files come back in the mapping's order, so content lands before the posts that link to it.
    """
    paired: list[tuple[int, Path, FileSpec]] = []
    for path in files:
        if not path.is_file():
            raise ImportMappingError(f"{path}: no such file")
        matches = [
            (index, spec)
            for index, spec in enumerate(mapping.files)
            if fnmatch.fnmatch(path.name, spec.match)
        ]
        if not matches:
            raise ImportMappingError(f"{path.name}: no 'files' entry of the mapping matches it")
        index, spec = matches[0]
        try:
            connection = open_legacy(path)
            try:
                for table in spec.tables:
                    columns = {
                        row["name"]
                        for row in connection.execute(
                            "SELECT name FROM pragma_table_info(?)", (table.table,)
                        )
                    }
                    if not columns:
                        raise ImportMappingError(f"{path.name}: no table {table.table!r}")
                    absent = table.columns() - columns
                    if absent:
                        raise ImportMappingError(
                            f"{path.name}: table {table.table!r} has no column(s) {sorted(absent)}"
                        )
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            raise ImportMappingError(
                f"{path.name}: not a readable SQLite file ({error})"
            ) from error
        paired.append((index, path, spec))
    paired.sort(key=lambda item: item[0])
    return [(path, spec) for _, path, spec in paired]
