"""The campaign page's read of a report: brands grouped for the ranking, and the
知名度 × 美誉度 quadrant against the whole cohort's medians.

Input is the CLI's JSON report (``report.results``), which carries display labels; the status and
tier are turned back into codes here (via the glossary) so nothing downstream compares labels.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from handlers.glossary import RECOGNITION_STATUS_LABELS, TIER_LABELS

_STATUS_CODES = {label: code for code, label in RECOGNITION_STATUS_LABELS.items()}
_TIER_CODES = {label: code for code, label in TIER_LABELS.items()}
TIER_ORDER = ("A", "B", "C")
INSUFFICIENT = RECOGNITION_STATUS_LABELS["insufficient"]


def status_code(brand: dict[str, Any]) -> str | None:
    """The code of a report row's status (None for a label the glossary does not know)."""
    return _STATUS_CODES.get(brand["status"])


def tier_code(brand: dict[str, Any]) -> str | None:
    return _TIER_CODES.get(brand["tier"] or "")


@dataclass(frozen=True)
class RankingBlocks:
    shown: list[dict[str, Any]]  # by tier, then index
    provisional: list[dict[str, Any]]  # 暂定: shown apart, by index (§5)
    insufficient: list[dict[str, Any]]  # no index


def ranking_blocks(report: dict[str, Any]) -> RankingBlocks:
    """The report's rows (each with ``status_code`` added) in the ranking's three blocks."""
    shown, provisional, insufficient = [], [], []
    for b in report["brands"]:
        row = {**b, "status_code": status_code(b)}
        if b["index"] is None:
            insufficient.append(row)
        elif row["status_code"] == "provisional":
            provisional.append(row)
        else:
            shown.append(row)

    def tier_rank(row: dict[str, Any]) -> int:
        code = tier_code(row)
        return TIER_ORDER.index(code) if code in TIER_ORDER else len(TIER_ORDER)

    shown.sort(key=lambda r: (tier_rank(r), -r["index"]))
    provisional.sort(key=lambda r: -r["index"])
    return RankingBlocks(shown, provisional, insufficient)


@dataclass(frozen=True)
class QuadrantPoint:
    brand: str
    awareness: float | None  # 知名度
    reputation: float | None  # 美誉度
    quadrant: str  # e.g. 知名度较高·美誉度较低, or 样本不足

    @property
    def plotted(self) -> bool:
        return self.awareness is not None and self.reputation is not None


@dataclass(frozen=True)
class Quadrant:
    points: list[QuadrantPoint]  # the page's brands, in the report's order
    median_awareness: float | None  # the whole cohort's
    median_reputation: float | None


def _mean_shown(entries: list[dict[str, Any]]) -> float | None:
    values = [e["value"] for e in entries if e.get("value") is not None]
    return round(sum(values) / len(values), 1) if values else None


def _point(b: dict[str, Any]) -> tuple[float | None, float | None]:
    groups = b["groups"].values()
    aw = _mean_shown([g["awareness"] for g in groups if "awareness" in g])
    rep = _mean_shown([g["reputation"] for g in groups])
    return aw, rep


def quadrant(report: dict[str, Any], full: dict[str, Any]) -> Quadrant:
    """知名度 (mean of the shown W/S awareness values) × 美誉度 (mean of the shown reputation values)
    for the brands of ``report``.

    The median lines are the whole cohort's (every brand of ``full``), as the method says.
    """
    cohort = [_point(b) for b in full["brands"]]
    xs = [x for x, y in cohort if x is not None and y is not None]
    ys = [y for x, y in cohort if x is not None and y is not None]
    mx = round(statistics.median(xs), 1) if xs else None
    my = round(statistics.median(ys), 1) if ys else None
    points = []
    for b in report["brands"]:
        x, y = _point(b)
        if x is None or y is None:
            label = INSUFFICIENT
        else:
            label = (
                ("知名度较高" if x >= (mx or 0) else "知名度较低")
                + "·"
                + ("美誉度较高" if y >= (my or 0) else "美誉度较低")
            )
        points.append(QuadrantPoint(b["brand"], x, y, label))
    return Quadrant(points, mx, my)
