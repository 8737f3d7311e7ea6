"""CSV export and import of posts.

Import is two passes: every row is validated first (errors carry the row number as a
spreadsheet shows it, the header being row 1, and the column name); only then are rows
written, all of them or, when the caller asks for ``partial``, the valid ones. Each imported
row becomes a content item with one post in review, checked like a generated draft, so an
import can never skip the checks or a person's approval.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.content.service import check_post, text_hash
from finagency.core.errors import ValidationFailed
from finagency.models import Account, Brand, ContentItem, Post, PostStatus
from finagency.review import service as review

IMPORT_KIND: Final = "imported"
MAX_BYTES: Final = 2 * 1024 * 1024
MAX_ROWS: Final = 5000
MAX_TEXT: Final = 10_000
IMPORT_COLUMNS: Final = (
    "text",
    "account_id",
    "platform",
    "account_handle",
    "scheduled_at",
    "link",
    "title",
)
# Columns our export writes that an import ignores, so an export can be edited and re-imported.
EXPORT_ONLY: Final = frozenset(
    {
        "id",
        "brand_id",
        "status",
        "published_at",
        "external_url",
        "created_at",
        "content_item_id",
        "check_verdict",
        "version",
    }
)
EXPORT_COLUMNS: Final = (
    "id",
    "brand_id",
    "content_item_id",
    "account_id",
    "platform",
    "account_handle",
    "status",
    "check_verdict",
    "text",
    "link",
    "scheduled_at",
    "published_at",
    "external_url",
    "created_at",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True, slots=True)
class ImportRow:
    row: int
    text: str
    account: Account
    scheduled_at: datetime | None
    link: str | None
    title: str


@dataclass
class ImportResult:
    rows: int = 0
    imported: list[int] = field(default_factory=list)  # post ids
    errors: list[RowError] = field(default_factory=list)


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            f"the file is larger than {MAX_BYTES // 1024 // 1024} MB; split it",
            details={"errors": [RowError(0, "", "file too large").to_dict()]},
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            "the file is not UTF-8 text; save it as CSV UTF-8",
            details={"errors": [RowError(0, "", f"not UTF-8 at byte {error.start}").to_dict()]},
        ) from None


def _check_header(header: Sequence[str]) -> list[RowError]:
    errors = []
    for name in header:
        if name not in IMPORT_COLUMNS and name not in EXPORT_ONLY:
            errors.append(RowError(1, name, f"unknown column; known: {', '.join(IMPORT_COLUMNS)}"))
    if "text" not in header:
        errors.append(RowError(1, "text", "the text column is required"))
    if "account_id" not in header and "platform" not in header:
        errors.append(RowError(1, "platform", "give an account_id or a platform column"))
    if len(set(header)) != len(header):
        errors.append(RowError(1, "", "a column name appears twice"))
    return errors


def _parse_time(value: str, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 time such as 2027-01-31T09:30:00+00:00") from None
    if at.tzinfo is None:
        raise ValueError("the time needs a UTC offset, e.g. +00:00 or Z")
    if at <= now:
        raise ValueError("the time is in the past")
    return at


def _check_link(value: str) -> str:
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError):
        raise ValueError("not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("links must be http(s) URLs")
    return value


class _AccountFinder:
    def __init__(self, accounts: Sequence[Account]) -> None:
        self.by_id = {account.id: account for account in accounts}
        self.accounts = accounts

    def find(
        self, raw_id: str, platform: str, handle: str
    ) -> tuple[Account | None, RowError | None]:
        if raw_id:
            try:
                account = self.by_id.get(int(raw_id))
            except ValueError:
                return None, RowError(0, "account_id", "not a whole number")
            if account is None:
                return None, RowError(0, "account_id", "no such account on this brand")
            return account, None
        if not platform:
            return None, RowError(0, "platform", "give a platform (or an account_id)")
        found = [
            a
            for a in self.accounts
            if a.platform == platform and (not handle or a.handle.lower() == handle.lower())
        ]
        if not found:
            column = "account_handle" if handle else "platform"
            return None, RowError(0, column, "no account of this brand matches")
        if len(found) > 1:
            return None, RowError(0, "account_handle", "several accounts match; give the handle")
        return found[0], None


def _validate_row(
    number: int, values: dict[str, str], finder: _AccountFinder, now: datetime
) -> tuple[ImportRow | None, list[RowError]]:
    errors: list[RowError] = []
    text = values.get("text", "")
    if text[:1] == "'" and text[1:2] in _FORMULA_START:
        text = text[1:]  # our export's guard against spreadsheet formulas, undone
    if not text.strip():
        errors.append(RowError(number, "text", "the text is empty"))
    elif len(text) > MAX_TEXT:
        errors.append(RowError(number, "text", f"longer than {MAX_TEXT} characters"))
    account, problem = finder.find(
        values.get("account_id", "").strip(),
        values.get("platform", "").strip().lower(),
        values.get("account_handle", "").strip(),
    )
    if problem is not None:
        errors.append(RowError(number, problem.column, problem.message))
    scheduled_at = link = None
    if raw := values.get("scheduled_at", "").strip():
        try:
            scheduled_at = _parse_time(raw, now)
        except ValueError as error:
            errors.append(RowError(number, "scheduled_at", str(error)))
    if raw := values.get("link", "").strip():
        try:
            link = _check_link(raw)
        except ValueError as error:
            errors.append(RowError(number, "link", str(error)))
    title = values.get("title", "").strip()
    if len(title) > 500:
        errors.append(RowError(number, "title", "longer than 500 characters"))
    if errors or account is None:
        return None, errors
    return ImportRow(number, text, account, scheduled_at, link, title), []


async def validate_csv(
    session: AsyncSession, brand: Brand, data: bytes, *, now: datetime
) -> tuple[list[ImportRow], list[RowError], int]:
    """Every row checked; returns the valid rows, every error, and how many rows were read."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return [], [RowError(1, "", "the file is empty")], 0
    except csv.Error as error:
        return [], [RowError(1, "", f"not valid CSV: {error}")], 0
    errors = _check_header(header)
    if errors:
        return [], errors, 0
    accounts = (
        await session.scalars(
            select(Account).where(Account.brand_id == brand.id).order_by(Account.id)
        )
    ).all()
    finder = _AccountFinder(accounts)
    valid: list[ImportRow] = []
    count = 0
    try:
        for values in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in values):
                continue  # blank lines are not rows
            count += 1
            if count > MAX_ROWS:
                errors.append(RowError(number, "", f"more than {MAX_ROWS} rows; split the file"))
                break
            if len(values) != len(header):
                errors.append(
                    RowError(number, "", f"{len(values)} cells, the header has {len(header)}")
                )
                continue
            row, problems = _validate_row(
                number, dict(zip(header, values, strict=True)), finder, now
            )
            errors.extend(problems)
            if row is not None:
                valid.append(row)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, "", f"not valid CSV: {error}"))
    return valid, errors, count


async def import_rows(
    session: AsyncSession, brand: Brand, rows: Sequence[ImportRow], *, author_id: int, now: datetime
) -> list[int]:
    """Write the rows as items with one post in review each; checked, audited, not committed."""
    post_ids: list[int] = []
    for row in rows:
        title = row.title or row.text.strip().splitlines()[0][:120]
        item = ContentItem(
            brand_id=brand.id,
            kind=IMPORT_KIND,
            title=title,
            factsheet={"kind": IMPORT_KIND, "subject": title, "facts": [], "url": row.link},
            generator="import",
            author_id=author_id,
            created_at=now,
        )
        session.add(item)
        await session.flush()
        post = Post(
            brand_id=brand.id,
            content_item_id=item.id,
            account_id=row.account.id,
            platform=row.account.platform,
            text=row.text,
            parts=[],
            media=[],
            link=row.link,
            status=PostStatus.IN_REVIEW,
            scheduled_at=row.scheduled_at,
            content_hash=text_hash(row.text),
            author_id=author_id,
            created_at=now,
            updated_at=now,
        )
        session.add(post)
        await session.flush()
        await check_post(session, post, item, brand, now=now)
        await audit.record(
            session,
            actor=f"user:{author_id}",
            action="content.drafted",
            object_type="content_item",
            object_id=item.id,
            brand_id=brand.id,
            data={
                "kind": IMPORT_KIND,
                "source": "csv",
                "row": row.row,
                "posts": [post.id],
                "verdicts": [post.check_verdict],
            },
        )
        await review.auto_approve_if_allowed(session, post, item, now=now)
        post_ids.append(post.id)
    return post_ids


def _cell(value: object) -> str:
    """Text for a spreadsheet; a leading = + - @ is quoted so it is never run as a formula."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_header() -> str:
    return _line(EXPORT_COLUMNS)


def _line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(value) for value in values])
    return buffer.getvalue()


def export_row(post: Post, handle: str) -> str:
    return _line(
        [
            post.id,
            post.brand_id,
            post.content_item_id,
            post.account_id,
            post.platform,
            handle,
            post.status,
            post.check_verdict,
            post.text,
            post.link,
            post.scheduled_at,
            post.published_at,
            post.external_url,
            post.created_at,
        ]
    )
