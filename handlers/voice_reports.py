"""Survey results and exports (suggestions, survey responses) as tables: CSV and XLSX.

Exports hold no openid and no user id: survey respondents appear by their opaque
respondent code, suggestions by ticket only.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from config.voice_texts import RATING_LABELS
from handlers.cells import SafeCsvWriter, safe_cell
from handlers.clock import SHANGHAI, show_time
from handlers.statistics import mean, mean_interval
from handlers.suggestions import config
from handlers.surveys import DONT_KNOW, GROUPS, Question, Template, brand_names, templates
from models import Suggestion, SurveyResponse, Union, User
from models.union import subtree_ids
from nlp.keywords import top_keywords

MIN_GROUP_N = 5  # smaller groups are suppressed in breakdowns
GROUP_LABELS = {"W": "职工群众", "G": "党委政府", "S": "社会各界"}
DK_CODE = 99  # 说不清 in exports
# Rosters differ by area, so a brand's share is of those shown it, not of all who answered.
ROSTER_BASE_NOTE = "各品牌的百分比以看到该品牌的人数为底数"
ROSTER_BASE_EACH = "（看到该品牌的 {n} 人中）"


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Any]]
    codebook: list[list[str]]  # 列名, 题目, 题型, 取值说明


# --- survey results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Respondents:
    """Which respondents count: those bound to one of ``union_ids`` (a select of union ids),
    plus those bound to no union when ``unbound`` (only the top union's view includes them)."""

    union_ids: Select[tuple[int]]
    unbound: bool = False


def completed(
    session: Session, key: str, since: date | None = None, within: Respondents | None = None
) -> list[SurveyResponse]:
    stmt = (
        select(SurveyResponse)
        .where(SurveyResponse.survey_key == key, SurveyResponse.status == "complete")
        .order_by(SurveyResponse.id)
    )
    if within is not None:
        bound = User.union_id.in_(within.union_ids)
        cond = or_(bound, User.union_id.is_(None)) if within.unbound else bound
        stmt = stmt.where(SurveyResponse.user_id.in_(select(User.id).where(cond)))
    rows = list(session.scalars(stmt))
    if since is not None:
        start = datetime.combine(since, time(0), SHANGHAI)
        rows = [r for r in rows if r.submitted_at is not None and r.submitted_at >= start]
    return rows


def _scale_stats(values: Sequence[int]) -> dict[str, Any]:
    # Exact Student-t quantile at every df (the one statistics module the index uses too).
    return {"n": len(values), "mean": mean(values), "ci": mean_interval(values)}


def _question_rows(tpl: Template, responses: list[SurveyResponse]) -> list[tuple[str, Question, str]]:
    """(answer key, question, display title) for every question incl. per-brand ratings."""
    brand_ids = sorted({b["id"] for r in responses for b in r.plan.get("rated", [])})
    out: list[tuple[str, Question, str]] = []
    for q in tpl.questions:
        if q.type == "brand_ratings":
            names = {b["id"]: b["name"] for r in responses for b in r.plan.get("rated", [])}
            for bid in brand_ids:
                for item in q.items:
                    out.append((f"{item.id}:{bid}", item, item.text.replace("{brand}", names[bid])))
        else:
            out.append((q.id, q, q.text))
    return out


def _summarise(key: str, q: Question, responses: list[SurveyResponse]) -> dict[str, Any]:
    answered = [r.answers[key] for r in responses if r.answers.get(key) is not None]
    result: dict[str, Any] = {"key": key, "type": q.type, "n": len(answered)}
    if q.type in ("single", "yesno", "multiple"):
        counts = [0] * len(q.options)
        for value in answered:
            for code in value if isinstance(value, list) else [value]:
                counts[int(code) - 1] += 1
        result["options"] = [
            (opt, c, (100.0 * c / len(answered)) if answered else 0.0)
            for opt, c in zip(q.options, counts, strict=True)
        ]
        result["bases"] = [len(answered)] * len(q.options)  # every percentage is of those who answered
    elif q.type == "scale":
        result["dont_know"] = sum(1 for v in answered if v == DONT_KNOW)
        result.update(_scale_stats([v for v in answered if isinstance(v, int)]))
    elif q.type == "text":
        result["keywords"] = top_keywords([str(v) for v in answered], 10)
    return result


def _roster_summary(q: Question, responses: list[SurveyResponse], session: Session) -> dict[str, Any]:
    """Each brand's share of those who were shown it (rosters differ by area), among those who
    answered the question; ``bases`` holds those denominators, stated beside each percentage."""
    answered = [r for r in responses if q.id in r.answers]
    shown: dict[str, int] = {}
    ticked: dict[str, int] = {}
    for r in answered:
        roster = r.plan.get("roster", [])
        for item in roster:
            name = item["name"] if item["id"] is not None else "（干扰项）"
            shown[name] = shown.get(name, 0) + 1
        for code in r.answers.get(q.id) or []:
            item = roster[code - 1]
            name = item["name"] if item["id"] is not None else "（干扰项）"
            ticked[name] = ticked.get(name, 0) + 1
    rows = sorted((name, ticked.get(name, 0), n) for name, n in shown.items())
    return {
        "key": q.id,
        "type": "roster",
        "n": len(answered),
        "options": [(name, count, 100.0 * count / n) for name, count, n in rows],
        "bases": [n for _name, _count, n in rows],
    }


def survey_results(
    session: Session, key: str, since: date | None = None, within: Respondents | None = None
) -> dict[str, Any]:
    tpl = templates()[key]
    responses = completed(session, key, since, within)
    by_group = {g: [r for r in responses if r.respondent_group == g] for g in GROUPS}
    questions = []
    for akey, q, title in _question_rows(tpl, responses):
        if q.type == "roster":
            overall = _roster_summary(q, responses, session)
        else:
            overall = _summarise(akey, q, responses)
        overall["title"] = title
        groups: dict[str, Any] = {}
        if q.type in ("scale", "single", "yesno", "multiple"):
            for g, rows in by_group.items():
                if not rows:
                    continue
                groups[g] = None if len(rows) < MIN_GROUP_N else _summarise(akey, q, rows)
        overall["groups"] = groups
        questions.append(overall)
    return {
        "key": key,
        "title": tpl.title,
        "n": len(responses),
        "groups": {g: len(rows) for g, rows in by_group.items()},
        "questions": questions,
    }


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


# --- exports --------------------------------------------------------------------------------


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
    return Table(headers, rows, codebook)


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


SUGGESTION_COLUMNS = [
    ("ticket", "单号", ""),
    ("created_at", "提交时间（北京时间）", ""),
    ("category", "分类", "薪酬、安全生产、劳动保护、职工福利、培训、文体活动、女职工、困难帮扶、其他"),
    ("brand", "涉及品牌", "空=未涉及品牌"),
    ("union_code", "受理工会代码", ""),
    ("union", "受理工会", ""),
    ("state", "状态", "已提交、已受理、办理中、已答复、已评价、不予受理"),
    ("anonymous", "是否匿名", "1=匿名；0=实名（导出中均不含提交人身份）"),
    ("content", "建议内容", ""),
    ("reason", "不予受理原因", ""),
    ("answer", "答复", ""),
    ("answered_at", "答复时间（北京时间）", ""),
    ("rating", "评价", "满意、基本满意、不满意；空=未评价"),
    ("reopened", "重新办理次数", "不满意重新办理的次数（最多 1 次）"),
    ("escalations", "逾期上交次数", ""),
    ("due_at", "当前办理时限（北京时间）", "空=已答复或已结束"),
]


def suggestion_table(session: Session, union_code: str | None = None, since: date | None = None) -> Table:
    stmt = select(Suggestion).order_by(Suggestion.id)
    if union_code:
        union = session.scalar(select(Union).where(Union.code == union_code))
        if union is None:
            raise ValueError(f"工会代码 {union_code} 不存在")
        stmt = stmt.where(Suggestion.union_id.in_(subtree_ids(session, union)))
    if since is not None:
        stmt = stmt.where(Suggestion.created_at >= datetime.combine(since, time(0), SHANGHAI))
    return suggestions_as_table(session.scalars(stmt))


def suggestions_as_table(suggestions: Iterable[Suggestion]) -> Table:
    """The suggestion export of exactly these suggestions (the CLI's and the dashboard's)."""
    rows = [
        [
            s.ticket,
            show_time(s.created_at),
            s.category,
            s.brand.name if s.brand else None,
            s.union.code,
            s.union.name,
            s.state.label,
            1 if s.anonymous else 0,
            s.content,
            s.reason,
            s.answer,
            show_time(s.answered_at) if s.answered_at else None,
            RATING_LABELS[s.rating] if s.rating else None,
            s.reopen_count,
            s.escalations,
            show_time(s.due_at) if s.due_at else None,
        ]
        for s in suggestions
    ]
    return Table(
        [c[0] for c in SUGGESTION_COLUMNS],
        rows,
        [[c[0], c[1], "", c[2]] for c in SUGGESTION_COLUMNS],
    )


def suggestion_topics(suggestions: Iterable[Suggestion], n: int = 15) -> dict[str, list[tuple[str, int]]]:
    """What workers raise: suggestions per category (table order) and the top content keywords."""
    items = list(suggestions)
    counts = Counter(s.category for s in items)
    order = list(config().categories) + sorted(set(counts) - set(config().categories))
    return {
        "categories": [(c, counts[c]) for c in order if counts[c]],
        "keywords": top_keywords([s.content for s in items], n),
    }


def write_table(table: Table, fmt: str, out: Path | io.BytesIO | io.StringIO) -> None:
    """CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX with a 代码本 sheet."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        writer.writerow(table.headers)
        writer.writerows(table.rows)
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
        ws.append([safe_cell(v) for v in row])
    book = wb.create_sheet("代码本")
    book.append(["列名", "题目/含义", "类型", "取值说明"])
    for entry in table.codebook:
        book.append([safe_cell(v) for v in entry])
    wb.save(out)
