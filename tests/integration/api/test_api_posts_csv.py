"""CSV export and import of posts: filters, formula guard, row errors, all-or-nothing, review."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from web_support import SEED_POSTS, Login, Seed

from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import AuditEvent, Finding, Post, PostStatus


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


async def post_count(services: Services) -> int:
    async with services.read_sessionmaker() as session:
        return int(await session.scalar(select(func.count(Post.id))) or 0)


def upload(text: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("posts.csv", text.encode(), "text/csv")}


async def test_export_has_the_callers_posts_with_filters(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    await login(client, "editor")

    everything = await client.get("/api/v1/posts.csv")
    published = await client.get("/api/v1/posts.csv", params={"status": "published"})

    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/csv")
    assert "attachment" in everything.headers["content-disposition"]
    brand_a = [spec for spec in SEED_POSTS if spec.brand == "a"]
    assert sorted(row["text"] for row in rows_of(everything)) == sorted(s.text for s in brand_a)
    assert {row["account_handle"] for row in rows_of(everything)} == {"acme-desk"}
    assert sorted(row["text"] for row in rows_of(published)) == sorted(
        s.text for s in brand_a if s.status is PostStatus.PUBLISHED
    )


async def test_export_defuses_spreadsheet_formulas_and_reimport_restores_them(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")
    formula = '=HYPERLINK("http://evil.example","click")'
    imported = await client.post(
        "/api/v1/posts/import",
        params={"brand_id": seed.brand_ids["a"]},
        files=upload(f"platform,text\nsandbox,{csv_quote(formula)}\n"),
        headers={"X-CSRF-Token": csrf},
    )
    assert imported.status_code == 200, imported.text

    exported = rows_of(await client.get("/api/v1/posts.csv", params={"status": "in_review"}))
    [cell] = [row["text"] for row in exported if "HYPERLINK" in row["text"]]
    assert cell == "'" + formula
    again = await client.post(
        "/api/v1/posts/import",
        params={"brand_id": seed.brand_ids["a"]},
        files=upload(f"platform,text\nsandbox,{csv_quote(cell)}\n"),
        headers={"X-CSRF-Token": csrf},
    )
    post_id = again.json()["post_ids"][0]
    assert (await client.get(f"/api/v1/posts/{post_id}")).json()["text"] == formula


def csv_quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


async def test_valid_file_becomes_posts_in_review_with_checks_and_audit(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")
    later = (utcnow() + timedelta(days=2)).replace(microsecond=0).isoformat()
    text = (
        "platform,text,scheduled_at,link\n"
        f"sandbox,A plain note about markets,{later},https://acme.example/a\n"
        "sandbox,Guaranteed returns for everyone who buys today,,\n"
    )

    response = await client.post(
        "/api/v1/posts/import",
        params={"brand_id": seed.brand_ids["a"]},
        files=upload(text),
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rows"], body["imported"], body["errors"]) == (2, 2, [])
    async with services.read_sessionmaker() as session:
        posts = [await session.get(Post, post_id) for post_id in body["post_ids"]]
        promise_findings = await session.scalar(
            select(func.count(Finding.id)).where(Finding.post_id == body["post_ids"][1])
        )
        audited = await session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "content.drafted")
        )
    assert all(post is not None and post.status == PostStatus.IN_REVIEW for post in posts)
    assert posts[0] is not None and posts[0].scheduled_at is not None
    assert posts[0].scheduled_at.isoformat() == later
    assert posts[1] is not None and posts[1].check_verdict == "block"
    assert promise_findings
    assert audited == 2


async def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")
    before = await post_count(services)
    text = (
        "platform,text,scheduled_at,link\n"
        "sandbox,Fine row,,\n"
        "sandbox,,,\n"
        "myspace,Unknown platform,,\n"
        "sandbox,Naive time,2030-01-01T09:00:00,\n"
        "sandbox,Bad link,,javascript:alert(1)\n"
    )

    response = await client.post(
        "/api/v1/posts/import",
        params={"brand_id": seed.brand_ids["a"]},
        files=upload(text),
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [(item["row"], item["column"]) for item in error["details"]["errors"]] == [
        (3, "text"),
        (4, "platform"),
        (5, "scheduled_at"),
        (6, "link"),
    ]
    assert await post_count(services) == before


async def test_partial_import_keeps_the_valid_rows_and_reports_the_rest(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")
    before = await post_count(services)

    response = await client.post(
        "/api/v1/posts/import",
        params={"brand_id": seed.brand_ids["a"], "partial": "true"},
        files=upload("platform,text\nsandbox,Kept\nsandbox,\n"),
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == 1
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "text")]
    assert await post_count(services) == before + 1


async def test_unknown_column_and_empty_file_are_refused(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")
    params = {"brand_id": seed.brand_ids["a"]}
    headers = {"X-CSRF-Token": csrf}

    unknown = await client.post(
        "/api/v1/posts/import",
        params=params,
        files=upload("platform,text,colour\nsandbox,x,red\n"),
        headers=headers,
    )
    empty = await client.post(
        "/api/v1/posts/import", params=params, files=upload(""), headers=headers
    )
    binary = await client.post(
        "/api/v1/posts/import",
        params=params,
        files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")},
        headers=headers,
    )

    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"]["errors"][0]["column"] == "colour"
    assert empty.status_code == 422
    assert binary.status_code == 422


async def test_import_into_a_brand_you_cannot_see_is_404(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")

    response = await client.post(
        "/api/v1/posts/import",
        params={"brand_id": seed.brand_ids["b"]},
        files=upload("platform,text\nsandbox,x\n"),
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 404
