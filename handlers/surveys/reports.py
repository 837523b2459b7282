"""Survey reports: the results as text (the CLI's) and the responses as a table with a
codebook (CSV/XLSX through ``handlers.tables.write_data``).

Exports hold no openid and no user id: respondents appear by their opaque respondent code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from handlers.clock import show_time
from handlers.surveys.queries import Respondents, brand_names, completed
from handlers.surveys.results import GROUP_LABELS, MIN_GROUP_N, ROSTER_BASE_EACH, ROSTER_BASE_NOTE
from handlers.surveys.templates import DONT_KNOW, templates
from handlers.tables import Table
from models import SurveyResponse

DK_CODE = 99  # 说不清 in exports


def render_results(results: dict[str, Any]) -> str:
    lines = [f"「{results['title']}」结果：有效答卷 {results['n']} 份"]
    lines.append(
        "群体："
        + "，".join(f"{GROUP_LABELS[g]} {n} 份" for g, n in results["groups"].items())
        + f"（不足 {MIN_GROUP_N} 份的群体不单独列出）"
    )
    for q in results["questions"]:
        lines.append("")
        roster = q["type"] == "roster"
        base_note = f"；{ROSTER_BASE_NOTE}" if roster else ""
        lines.append(f"【{q['key']}】{q['title']}（作答 {q['n']} 人{base_note}）")
        if "options" in q:
            for (opt, count, pct), base in zip(q["options"], q["bases"], strict=True):
                of = ROSTER_BASE_EACH.format(n=base) if roster else ""
                lines.append(f"  {opt}：{count} 人，{pct:.1f}%{of}")
        if q["type"] == "scale":
            lines.append("  " + _mean_text(q))
        if q.get("keywords"):
            lines.append("  关键词：" + "、".join(f"{w}({c})" for w, c in q["keywords"]))
        for g, summary in q.get("groups", {}).items():
            if summary is None:
                lines.append(f"  · {GROUP_LABELS[g]}：样本不足 {MIN_GROUP_N} 份，不单独显示")
            elif q["type"] == "scale":
                lines.append(f"  · {GROUP_LABELS[g]}：{_mean_text(summary)}")
            else:
                parts = "，".join(f"{o} {p:.1f}%" for o, _c, p in summary["options"])
                lines.append(f"  · {GROUP_LABELS[g]}（{summary['n']} 人）：{parts}")
    return "\n".join(lines)


def _mean_text(s: dict[str, Any]) -> str:
    if s["mean"] is None:
        return "平均分：无有效评分"
    text = f"平均分 {s['mean']:.2f}（n={s['n']}"
    if s["ci"] is not None:
        text += f"，95% 置信区间 {s['ci'][0]:.2f}～{s['ci'][1]:.2f}"
    text += "）"
    if s.get("dont_know"):
        text += f"，说不清 {s['dont_know']} 人"
    return text


def survey_table(
    session: Session, key: str, since: date | None = None, within: Respondents | None = None
) -> Table:
    tpl = templates()[key]
    responses = completed(session, key, since, within)
    headers = ["respondent", "group", "channel", "started_at", "submitted_at"]
    codebook = [
        ["respondent", "受访者编号（随机编号，不对应微信身份）", "文本", ""],
        ["group", "受访者群体", "代码", "W=职工群众；G=党委政府；S=社会各界"],
        ["channel", "答卷渠道", "代码", "neutral_open=公众号自行参与；neutral_invited=组织方邀请链接/二维码"],
        ["started_at", "开始时间（北京时间）", "时间", ""],
        ["submitted_at", "提交时间（北京时间）", "时间", ""],
    ]
    roster_ids = sorted({i["id"] for r in responses for i in r.plan.get("roster", []) if i["id"] is not None})
    rated_ids = sorted({b["id"] for r in responses for b in r.plan.get("rated", [])})
    names = brand_names(session, sorted(set(roster_ids) | set(rated_ids)))
    getters: list[Any] = []
    for q in tpl.questions:
        if q.type in ("single", "yesno"):
            headers.append(q.id)
            codebook.append(
                [
                    q.id,
                    q.text,
                    "单选",
                    "；".join(f"{i}={o}" for i, o in enumerate(q.options, 1)) + "；空=未答",
                ]
            )
            getters.append(lambda r, k=q.id: r.answers.get(k))
        elif q.type == "multiple":
            for i, opt in enumerate(q.options, 1):
                col = f"{q.id}_{i}"
                headers.append(col)
                codebook.append(
                    [col, f"{q.text}：{opt}", "多选（每项一列）", "1=选中；0=未选；空=未答/未显示"]
                )
                getters.append(lambda r, k=q.id, c=i: _ticked(r.answers.get(k), c, k in r.answers))
        elif q.type == "scale":
            headers.append(q.id)
            codebook.append([q.id, q.text, f"量表 {q.min}～{q.max}", f"{DK_CODE}=说不清；空=未答"])
            getters.append(lambda r, k=q.id: _scale_cell(r.answers.get(k)))
        elif q.type == "text":
            headers.append(q.id)
            codebook.append([q.id, q.text, "文字", "空=未答"])
            getters.append(lambda r, k=q.id: r.answers.get(k) or None)
        elif q.type == "roster":
            for bid in roster_ids:
                col = f"{q.id}_b{bid}"
                headers.append(col)
                codebook.append([col, f"{q.text}：{names.get(bid, bid)}", "品牌名单（每个品牌一列）",
                                 "1=听说过；0=显示但未选；空=未显示"])  # fmt: skip
                getters.append(lambda r, k=q.id, b=bid: _roster_cell(r, k, b))
            col = f"{q.id}_foil"
            headers.append(col)
            codebook.append([col, f"{q.text}：干扰项（虚构品牌）", "品牌名单", "1=选了虚构品牌；0=未选"])
            getters.append(lambda r, k=q.id: _roster_cell(r, k, None))
        elif q.type == "brand_ratings":
            for bid in rated_ids:
                for item in q.items:
                    col = f"{item.id}_b{bid}"
                    headers.append(col)
                    text = item.text.replace("{brand}", str(names.get(bid, bid)))
                    codebook.append([col, text, f"量表 {item.min}～{item.max}",
                                     f"{DK_CODE}=说不清；空=未评价该品牌或未答"])  # fmt: skip
                    getters.append(lambda r, k=f"{item.id}:{bid}": _scale_cell(r.answers.get(k)))
    rows = [
        [
            r.respondent_code,
            r.respondent_group,
            r.channel,
            show_time(r.started_at),
            show_time(r.submitted_at) if r.submitted_at else None,
            *(g(r) for g in getters),
        ]
        for r in responses
    ]
    return Table.of("答卷", headers, rows, codebook)


def _ticked(value: Any, code: int, seen: bool) -> int | None:
    if not seen or value is None:
        return None
    return 1 if code in value else 0


def _scale_cell(value: Any) -> int | None:
    if value == DONT_KNOW:
        return DK_CODE
    return value if isinstance(value, int) else None


def _roster_cell(r: SurveyResponse, key: str, brand_id: int | None) -> int | None:
    roster = r.plan.get("roster", [])
    positions = [i + 1 for i, item in enumerate(roster) if item["id"] == brand_id]
    if not positions:
        return None
    return 1 if positions[0] in (r.answers.get(key) or []) else 0
