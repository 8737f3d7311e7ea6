"""The dashboard: server-rendered pages, their templates and static files, and the live stream."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"

__all__ = ["STATIC_DIR", "TEMPLATES_DIR"]
