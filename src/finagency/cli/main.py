"""The `finagency` command: run the product's processes and operate it from a terminal."""

from __future__ import annotations

import typer

from finagency.cli import admin, check, compliance, platforms, processes
from finagency.cli.evaluate import eval_app
from finagency.cli.ops_cli import register as register_ops
from finagency.cli.posts import register as register_posts
from finagency.cli.queue import queue_app
from finagency.cli.report import register as register_report

app = typer.Typer(
    name="finagency",
    help="Run an AI finance content agency: ingest, draft, check, approve, publish, measure.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
processes.register(app)
admin.register(app)
platforms.register(app)
check.register(app)
register_ops(app)
compliance.register(app)
register_report(app)
register_posts(app)
app.add_typer(queue_app, name="queue")
app.add_typer(eval_app, name="eval")

if __name__ == "__main__":  # pragma: no cover
    app()
