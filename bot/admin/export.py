"""List pages' downloads: a ``handlers.tables.Table`` as a CSV/XLSX response.

A list page builds a ``Table`` once and hands it to ``table_response``: with ``?format=csv`` or
``?format=xlsx`` the visitor downloads exactly the columns and rows the page shows (all pages of
it, not just the visible one); otherwise the page's template renders it with the ``data_table``
macro from ``admin/_macros.html``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response, request

from handlers.clock import local_day
from handlers.tables import Table, to_csv, to_xlsx
from models import utcnow

FORMATS = ("csv", "xlsx")


def requested_format() -> str | None:
    fmt = request.args.get("format")
    return fmt if fmt in FORMATS else None


def export_response(table: Table, fmt: str) -> Response:
    stamp = local_day(utcnow())
    filename = f"{table.name}-{stamp}.{fmt}"
    if fmt == "csv":
        body, mimetype = to_csv(table), "text/csv"  # Werkzeug adds "; charset=utf-8"
    else:
        body = to_xlsx(table)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    ascii_name = f"export-{stamp}.{fmt}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def export_links(formats: Iterable[str] = FORMATS) -> list[tuple[str, str]]:
    """(label, URL) for the current page's exports, keeping its filters."""
    args = request.args.to_dict()
    args.pop("page", None)
    links = []
    for fmt in formats:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in {**args, "format": fmt}.items())
        links.append((fmt.upper(), f"{request.path}?{query}"))
    return links
