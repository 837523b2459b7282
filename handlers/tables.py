"""One table shape for every export: the dashboard's lists, the CLI's and the dashboard's data files.

A ``Table`` has named columns and rows of values by column key. Two writers render it:
``to_csv``/``to_xlsx`` give a list as the page shows it (Beijing time, 、-joined lists), and
``write_data`` gives an analysis file (raw codes and numbers, XLSX with a 代码本 sheet). Every
cell goes through the one formula-injection guard (``handlers.cells``); numbers stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from handlers.cells import SafeCsvWriter, safe_cell
from handlers.clock import show_time


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
    # A data file's 代码本: (列名, 题目/含义, 类型, 取值说明) per column.
    codebook: list[list[str]] = field(default_factory=list)

    @classmethod
    def of(
        cls, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], codebook: list[list[str]]
    ) -> Table:
        """A data file's table from its header row and value rows. Headers are titles only (a data
        file may repeat one, e.g. a response's ``channel`` and the question ``channel``)."""
        keys = [f"c{i}" for i in range(len(headers))]
        return cls(
            name,
            [Column(k, h) for k, h in zip(keys, headers, strict=True)],
            [dict(zip(keys, r, strict=True)) for r in rows],
            codebook,
        )

    @property
    def headers(self) -> list[str]:
        return [c.title for c in self.columns]

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
    writer = SafeCsvWriter(buffer)
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([display(v) for v in table.cells(row)])
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


def write_data(table: Table, fmt: str, out: Path | io.BytesIO | io.StringIO) -> None:
    """CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX with a 代码本 sheet."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        writer.writerow(table.headers)
        writer.writerows(table.cells(row) for row in table.rows)
        data = "\ufeff" + buffer.getvalue()
        if isinstance(out, Path):
            out.write_text(data, encoding="utf-8", newline="")
        elif isinstance(out, io.StringIO):
            out.write(data)
        else:
            out.write(data.encode("utf-8"))
        return
    if fmt != "xlsx":
        raise ValueError(f"不支持的格式：{fmt}")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "数据"
    ws.append(table.headers)
    for row in table.rows:
        ws.append([safe_cell(v) for v in table.cells(row)])
    book = wb.create_sheet("代码本")
    book.append(["列名", "题目/含义", "类型", "取值说明"])
    for entry in table.codebook:
        book.append([safe_cell(v) for v in entry])
    wb.save(out)
