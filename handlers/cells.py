"""One guard for every spreadsheet cell we write (CSV and XLSX, dashboard, CLI and jobs).

Spreadsheet programs run a cell that starts with = + - @ (or a tab / carriage return before
one) as a formula: a brand or union name like ``=HYPERLINK(…)`` in an export would run on the
reader's machine (CSV/formula injection). Text cells that start so get a leading apostrophe;
numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` with :func:`safe_cell` applied to every cell; None is an empty cell."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(["" if v is None else safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
