"""The survey results page's tables and chart specs, one per question (the same figures the CLI
prints and the exports hold)."""

from __future__ import annotations

from typing import Any

from handlers.surveys.results import GROUP_LABELS, MIN_GROUP_N, ROSTER_BASE_NOTE
from handlers.tables import Column, Table

TYPE_LABELS = {
    "single": "单选",
    "multiple": "多选",
    "scale": "量表",
    "yesno": "是否",
    "text": "文字",
    "roster": "品牌名单",
    "brand_ratings": "品牌评分",
}


def _fmt_mean(q: dict[str, Any]) -> str:
    if q.get("mean") is None:
        return "无有效评分"
    text = f"{q['mean']:.2f}"
    if q.get("ci"):
        text += f"（95% 置信区间 {q['ci'][0]:.2f}～{q['ci'][1]:.2f}）"
    return text


def question_view(q: dict[str, Any], index: int) -> dict[str, Any]:
    """One question's table, chart spec and group breakdown for the results page."""
    view: dict[str, Any] = {"q": q, "type_label": TYPE_LABELS.get(q["type"], q["type"]), "chart": None}
    if "options" in q:
        roster = q["type"] == "roster"
        columns = [Column("name", "选项"), Column("count", "人数"), Column("pct", "百分比")]
        if roster:  # each brand's percentage has its own base: those shown it
            columns.append(Column("base", "看到该品牌的人数"))
            view["base_note"] = ROSTER_BASE_NOTE
        table = Table(q["key"], columns)
        for (opt, count, pct), base in zip(q["options"], q["bases"], strict=True):
            table.add(name=opt, count=count, pct=f"{pct:.1f}%", base=base, value=count)
        view["table"] = table
        if q["n"] and table.rows:
            view["chart"] = {
                "id": f"q{index}",
                "spec": {
                    "type": "hbar",
                    "title": "人数",
                    "data": [{"name": r["name"], "value": r["count"]} for r in table.rows],
                },
            }
    elif q["type"] == "scale":
        view["mean"] = _fmt_mean(q)
    elif q["type"] == "text":
        table = Table(q["key"], [Column("name", "关键词"), Column("value", "提到的人数")])
        for word, count in q.get("keywords") or []:
            table.add(name=word, value=count)
        view["table"] = table
        if table.rows:
            view["chart"] = {
                "id": f"q{index}",
                "spec": {"type": "hbar", "title": "提到的人数", "data": table.rows},
            }
    groups = []
    for g, summary in (q.get("groups") or {}).items():
        if summary is None:
            groups.append((GROUP_LABELS[g], f"不足 {MIN_GROUP_N} 份，不单独显示"))
        elif q["type"] == "scale":
            groups.append((GROUP_LABELS[g], f"平均分 {_fmt_mean(summary)}，n={summary['n']}"))
        else:
            parts = "，".join(f"{o} {p:.1f}%" for o, _c, p in summary["options"])
            groups.append((GROUP_LABELS[g], f"{summary['n']} 人：{parts}"))
    view["groups"] = groups
    return view
