"""Reading an import file: numbered rows of a CSV (UTF-8) or XLSX file, and the refusal that names them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from handlers.errors import OperationError

Row = dict[str, str]


class ImportFailed(OperationError):
    """The whole import was refused; ``errors`` are Chinese lines, each naming its row."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    notes: list[str] = field(default_factory=list)


def read_rows(path: Path, required: Sequence[str]) -> list[tuple[int, Row]]:
    """(line number, row) pairs from a CSV (UTF-8, with or without BOM) or XLSX file."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        raw = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFailed(
                ["文件不是 UTF-8 编码。请在 Excel 中“另存为 CSV UTF-8”，或直接导入 .xlsx 文件。"]
            ) from None
        raw = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportFailed([f"不支持的文件类型 {suffix or '（无扩展名）'}：请使用 .csv 或 .xlsx"])
    if not raw:
        raise ImportFailed(["文件为空"])
    header = [h.strip().lower() for h in raw[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed([f"第1行（表头）缺少列：{'、'.join(missing)}；应包含：{','.join(required)}"])
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines are common at the end of spreadsheets
        row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header) if h}
        rows.append((number, row))
    return rows


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise ImportFailed([f"无法读取 Excel 文件：{exc}"]) from exc
    sheet = book.worksheets[0]
    rows = [["" if v is None else _cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 12 as 12.0
    return str(value)
