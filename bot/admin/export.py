"""Tables that render as HTML, CSV and XLSX with the same columns.

A list page builds a ``Table`` once and hands it to ``table_response``: with ``?format=csv`` or
``?format=xlsx`` the visitor downloads exactly the columns and rows the page shows (all pages of
it, not just the visible one); otherwise the page's template renders it with the ``data_table``
macro from ``admin/_macros.html``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Response, request
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from handlers.cells import safe_cell
from handlers.clock import local_day, show_time
from models import utcnow

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    # Optional endpoint builder: row -> URL, to link the cell on the HTML page.
    link: Callable[[dict[str, Any]], str] | None = None


@dataclass
class Table:
    name: str  # file name stem of the export, e.g. "品牌列表"
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> None:
        self.rows.append(values)

    def cells(self, row: dict[str, Any]) -> list[Any]:
        return [row.get(c.key) for c in self.columns]


def display(value: Any) -> str:
    """A cell's text: Beijing time for datetimes, 、-joined lists, empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return show_time(value)
    if isinstance(value, list | tuple):
        return "、".join(display(v) for v in value)
    return str(value)


def _safe_text(value: Any) -> str:
    return str(safe_cell(display(value)))


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([_safe_text(v) for v in table.cells(row)])
    # The BOM makes Excel open the file as UTF-8 instead of garbling the Chinese.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    return _safe_text(value)


def to_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = table.name[:31]
    sheet.append([c.title for c in table.columns])
    for row in table.rows:
        sheet.append([_xlsx_value(v) for v in table.cells(row)])
    for index, column in enumerate(table.columns, start=1):
        width = max([len(column.title) * 2, *(len(display(r.get(column.key))) * 2 for r in table.rows[:200])])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def requested_format() -> str | None:
    fmt = request.args.get("format")
    return fmt if fmt in FORMATS else None


def export_response(table: Table, fmt: str) -> Response:
    stamp = local_day(utcnow())
    filename = f"{table.name}-{stamp}.{fmt}"
    if fmt == "csv":
        body, mimetype = to_csv(table), "text/csv; charset=utf-8"
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
