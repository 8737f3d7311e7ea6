"""The `finagency` command: run the product's processes and operate it from a terminal."""

from __future__ import annotations

import typer

from finagency.cli import admin, check, platforms, processes
from finagency.cli.queue import queue_app

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
app.add_typer(queue_app, name="queue")

if __name__ == "__main__":  # pragma: no cover
    app()
