"""The tables and charts of a campaign's page, and its export (the columns of the CLI's CSV)."""

from __future__ import annotations

import re
from typing import Any

from handlers.recognition.quadrant import INSUFFICIENT, Quadrant, RankingBlocks
from handlers.recognition.report import HEAT_TITLE
from handlers.recognition.scoped_queries import TrendRow
from handlers.tables import Column, Table

# CSS classes of the status chips, by status code.
STATUS_CHIPS = {
    "ok": "ok",
    "provisional": "provisional",
    "insufficient": "insufficient",
    "under_review": "review",
}
# Columns of `flask --app bot recognition --format csv` (handlers.recognition.report.csv_text).
EXPORT_COLUMNS = [
    Column("campaign", "活动"),
    Column("brand", "品牌"),
    Column("index", "社会认可度"),
    Column("low", "可信区间下限"),
    Column("high", "可信区间上限"),
    Column("status", "状态"),
    Column("tier", "分档"),
    Column("rank", "名次区间"),
    Column("ratings", "有效评价数"),
    Column("heat", "参与热度"),
    Column("suspect", "待核查"),
    Column("with_suspects", "含待核查指数"),
    Column("version", "方法版本"),
]


def export_table(report: dict[str, Any]) -> Table:
    """Same columns and final disclosure row as the CLI's CSV; n, interval, status, version per row."""
    # Spreadsheet sheet titles and file names cannot hold these characters.
    safe = re.sub(r"[\\/:*?\[\]<>|\"]", "_", report["campaign"])
    table = Table(f"社会认可度-{safe}", EXPORT_COLUMNS)
    for b in report["brands"]:
        ci = b["ci"] or [None, None]
        rr = b["rank_range"]
        table.add(
            campaign=report["campaign"],
            brand=b["brand"],
            index="" if b["index"] is None else f"{b['index']:.1f}",
            low="" if ci[0] is None else f"{ci[0]:.1f}",
            high="" if ci[1] is None else f"{ci[1]:.1f}",
            status=b["status"],
            tier=b["tier"] or "",
            rank=f"第{rr[0]}–{rr[1]}位" if rr else "",
            ratings=b["ratings"],
            heat=b["heat"],
            suspect=b["suspect"],
            with_suspects="" if b["index_with_suspects"] is None else f"{b['index_with_suspects']:.1f}",
            version=report["method_version"],
        )
    table.add(campaign=report["disclosure"])
    return table


def _badges(b: dict[str, Any]) -> list[str]:
    out = []
    for entry in b["groups"].values():
        rep = entry["reputation"]["n"]
        if "awareness" in entry:
            out.append(f"{entry['label']} 评价 {rep} / 知晓 {entry['awareness']['n']}")
        else:
            out.append(f"{entry['label']} 评议人 {rep}")
    return out


def ranking_view(blocks: RankingBlocks) -> dict[str, list[dict[str, Any]]]:
    """The three blocks' rows with their status chip and per-group sample badges."""

    def row(b: dict[str, Any]) -> dict[str, Any]:
        return {**b, "chip": STATUS_CHIPS.get(b["status_code"] or "", "review"), "badges": _badges(b)}

    return {
        "shown": [row(b) for b in blocks.shown],
        "provisional": [row(b) for b in blocks.provisional],
        "insufficient": [row(b) for b in blocks.insufficient],
    }


def interval_chart(rows: list[dict[str, Any]], median: float | None) -> dict[str, Any]:
    """Points with whiskers; the dashed line is the cohort's reference median the tiers use."""
    return {
        "type": "interval",
        "title": "社会认可度及95%可信区间",
        "median": median,
        "data": [
            {"name": r["brand"], "value": r["index"], "low": r["ci"][0], "high": r["ci"][1]} for r in rows
        ],
    }


def quadrant_view(quad: Quadrant) -> dict[str, Any]:
    """The quadrant's table, its chart (when a point can be drawn) and the cohort's medians."""
    mx, my = quad.median_awareness, quad.median_reputation
    plotted = [p for p in quad.points if p.plotted]
    return {
        "table": Table(
            "知名度与美誉度",
            [
                Column("brand", "品牌"),
                Column("awareness", "知名度"),
                Column("reputation", "美誉度"),
                Column("quadrant", "象限（相对全体中位数）"),
            ],
            [
                {
                    "brand": p.brand,
                    "awareness": p.awareness if p.awareness is not None else INSUFFICIENT,
                    "reputation": p.reputation if p.reputation is not None else INSUFFICIENT,
                    "quadrant": p.quadrant,
                }
                for p in quad.points
            ],
        ),
        "chart": {
            "type": "quadrant",
            "title": "知名度 × 美誉度",
            "mx": mx,
            "my": my,
            "data": [{"name": p.brand, "value": [p.awareness, p.reputation]} for p in plotted],
        }
        if plotted and mx is not None
        else None,
        "medians": (mx, my),
    }


def _component_text(c: dict[str, Any]) -> str:
    if c["value"] is None:
        return INSUFFICIENT  # suppressed: never a number below the show threshold
    ci = c["ci"]
    return f"{c['value']:.1f}（{ci[0]:.1f}–{ci[1]:.1f}）" if ci else f"{c['value']:.1f}"


def groups_table(report: dict[str, Any]) -> Table:
    """Per brand and group: awareness and reputation as the report displays them (样本不足 below n)."""
    table = Table(
        "分群体结果",
        [
            Column("brand", "品牌"),
            Column("group", "群体"),
            Column("awareness", "知名度"),
            Column("awareness_n", "知晓题 n"),
            Column("reputation", "美誉度"),
            Column("reputation_n", "评价 n"),
        ],
    )
    for b in report["brands"]:
        for entry in b["groups"].values():
            aw = entry.get("awareness")
            rep = entry["reputation"]
            table.add(
                brand=b["brand"],
                group=entry["label"],
                awareness=_component_text(aw) if aw else "（不适用）",
                awareness_n=aw["n"] if aw else "",
                reputation=_component_text(rep),
                reputation_n=rep["n"],
            )
    return table


def heat_table(report: dict[str, Any]) -> Table:
    rows = sorted(report["brands"], key=lambda b: -b["heat"])
    return Table(
        HEAT_TITLE,
        [Column("brand", "品牌"), Column("heat", "支持票数")],
        [{"brand": b["brand"], "heat": b["heat"]} for b in rows],
    )


def heat_chart(heat: Table) -> dict[str, Any]:
    return {
        "type": "hbar",
        "title": HEAT_TITLE,
        "data": [{"name": r["brand"], "value": r["heat"]} for r in heat.rows],
    }


def _index_text(value: float | None) -> str:
    return INSUFFICIENT if value is None else f"{value:.1f}"


def suspects_table(report: dict[str, Any]) -> Table:
    return Table(
        "含与不含可疑答卷的指数",
        [
            Column("brand", "品牌"),
            Column("index", "社会认可度（不含可疑）"),
            Column("with_suspects", "含可疑答卷时"),
            Column("suspect", "可疑答卷数"),
            Column("watch", "观察中"),
        ],
        [
            {
                "brand": b["brand"],
                "index": _index_text(b["index"]),
                "with_suspects": _index_text(b["index_with_suspects"]),
                "suspect": b["suspect"],
                "watch": b["watch"],
            }
            for b in report["brands"]
        ],
    )


def trend_table(rows: list[TrendRow] | None) -> Table | None:
    """RI of the page's brands in earlier closed campaigns' snapshots; None when only one point."""
    if rows is None:
        return None
    return Table(
        "历次结果",
        [
            Column("campaign", "活动"),
            Column("date", "数据截至"),
            Column("brand", "品牌"),
            Column("index", "社会认可度"),
            Column("ci", "95%可信区间"),
        ],
        [
            {
                "campaign": r.campaign,
                "date": r.date,
                "brand": r.brand,
                "index": _index_text(r.index),
                "ci": "" if not r.ci else f"{r.ci[0]:.1f}–{r.ci[1]:.1f}",
            }
            for r in rows
        ],
    )
