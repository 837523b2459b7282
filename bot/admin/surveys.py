"""Surveys (问卷): templates with response counts, results per question with charts, exports,
and the overview's "participation" panel.

Responses carry no union of their own; a response counts for a scope when its respondent is
bound to a union in that scope. Respondents bound to no union count only in the view of a top
union (no parent), so a province sees every response, like the CLI. Results with fewer than
``MIN_GROUP_N`` responses in the viewer's scope are suppressed as a whole (a county with three
respondents would otherwise show each one's answers); breakdowns by group are suppressed per
group by ``survey_results`` itself.

Admins of a top union (no parent) open and close surveys: surveys are not owned by a union, so
a county must not close the province's survey for everyone. Templates themselves are read-only
here: see docs/zh/admin-voice.md for why editing is not offered.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.audit_log import record
from bot.admin.export import Column, Table, export_links, requested_format
from bot.admin.scoping import Scope
from bot.admin.voice_common import report_response
from handlers.surveys import Template, is_open, set_open, templates
from handlers.voice_reports import (
    GROUP_LABELS,
    MIN_GROUP_N,
    ROSTER_BASE_NOTE,
    Respondents,
    survey_results,
    survey_table,
)
from models import SurveyResponse, Union, User, utcnow
from models.admin import AdminRole

bp = Blueprint("admin_surveys", __name__, url_prefix="/admin/surveys")
TYPE_LABELS = {
    "single": "单选",
    "multiple": "多选",
    "scale": "量表",
    "yesno": "是否",
    "text": "文字",
    "roster": "品牌名单",
    "brand_ratings": "品牌评分",
}


def respondents(session: Session, sc: Scope) -> Respondents:
    root = session.get(Union, sc.root_id)
    top = root is not None and root.parent_id is None and sc.role is not AdminRole.CADRE
    return Respondents(sc.union_ids(), unbound=top)


def response_counts(session: Session, sc: Scope) -> dict[str, dict[str, int]]:
    """Per survey key: complete and in-progress responses of respondents in scope."""
    within = respondents(session, sc)
    bound = User.union_id.in_(within.union_ids)
    cond = bound if not within.unbound else (bound | User.union_id.is_(None))
    rows = session.execute(
        select(SurveyResponse.survey_key, SurveyResponse.status, func.count(SurveyResponse.id))
        .join(User, User.id == SurveyResponse.user_id)
        .where(cond)
        .group_by(SurveyResponse.survey_key, SurveyResponse.status)
    ).tuples()
    out: dict[str, dict[str, int]] = {}
    for key, status, n in rows:
        out.setdefault(key, {})[status] = int(n)
    return out


def _template(key: str) -> Template:
    tpl = templates().get(key)
    if tpl is None:
        abort(404)
    return tpl


def can_schedule(session: Session, sc: Scope) -> bool:
    root = session.get(Union, sc.root_id)
    return sc.can_write and root is not None and root.parent_id is None


@bp.route("/")
def index() -> Any:
    session = web.db()
    counts = response_counts(session, web.scope())
    table = Table(
        "问卷",
        [
            Column("title", "问卷", link=lambda r: url_for("admin_surveys.results", key=r["key"])),
            Column("key", "标识"),
            Column("state", "状态"),
            Column("questions", "题数"),
            Column("complete", "完成答卷"),
            Column("in_progress", "进行中"),
        ],
    )
    for tpl in templates().values():
        c = counts.get(tpl.key, {})
        table.add(
            key=tpl.key,
            title=tpl.title + ("（默认）" if tpl.default else ""),
            state="进行中" if is_open(session, tpl) else "已关闭",
            questions=len(tpl.questions),
            complete=c.get("complete", 0),
            in_progress=c.get("in_progress", 0),
        )
    return render_template(
        "admin/surveys.html",
        table=table,
        schedule=[(t, is_open(session, t)) for t in templates().values()],
        can_schedule=can_schedule(session, web.scope()),
    )


def _schedule(key: str, open_: bool) -> Any:
    tpl = _template(key)
    session = web.db()
    if not can_schedule(session, web.scope()):
        abort(403)
    account = web.current_account()
    before = set_open(session, tpl, open_, utcnow(), account.username)
    record(
        session,
        f"survey.{'open' if open_ else 'close'}",
        "survey",
        tpl.key,
        {"open": before},
        {"open": open_},
    )
    session.commit()
    done = "开启，职工发送“问卷”即可参加" if open_ else "关闭，不再接受新的回答（已有答卷保留）"
    flash(f"问卷「{tpl.title}」已{done}。", "success")
    return redirect(url_for("admin_surveys.index"))


@bp.route("/<key>/open", methods=["POST"])
@web.write_required
def open_survey(key: str) -> Any:
    return _schedule(key, True)


@bp.route("/<key>/close", methods=["POST"])
@web.write_required
def close_survey(key: str) -> Any:
    return _schedule(key, False)


def _since() -> date | None:
    value = request.args.get("since")
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        abort(400, description="日期格式应为 YYYY-MM-DD，如 2026-11-01。")


def scoped_results(session: Session, sc: Scope, key: str, since: date | None) -> dict[str, Any]:
    results = survey_results(session, key, since, respondents(session, sc))
    results["suppressed"] = results["n"] < MIN_GROUP_N
    if results["suppressed"]:
        results["questions"] = []  # too few respondents in this scope to show answers
    return results


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


@bp.route("/<key>")
def results(key: str) -> Any:
    tpl = _template(key)
    sc = web.scope()
    session = web.db()
    since = _since()
    fmt = requested_format()
    if fmt:
        return report_response(survey_table(session, key, since, respondents(session, sc)), fmt, tpl.title)
    data = scoped_results(session, sc, key, since)
    views = [question_view(q, i) for i, q in enumerate(data["questions"])]
    return render_template(
        "admin/survey_results.html",
        tpl=tpl,
        data=data,
        views=views,
        since=since,
        group_labels=GROUP_LABELS,
        min_n=MIN_GROUP_N,
        exports=export_links(),
    )


# --- overview panel -----------------------------------------------------------------------------


def participation_panel(session: Session, sc: Scope) -> Table | None:
    root = session.get(Union, sc.root_id)
    members = root.members if root is not None else None
    counts = response_counts(session, sc)
    table = Table(
        "问卷参与情况",
        [
            Column("title", "问卷"),
            Column("complete", "完成答卷"),
            Column("members", "会员数"),
            Column("rate", "参与率"),
        ],
    )
    for tpl in templates().values():
        n = counts.get(tpl.key, {}).get("complete", 0)
        if not n and not tpl.active:
            continue
        rate = f"{100.0 * n / members:.2f}%" if members else "—（未填会员数）"
        table.add(title=tpl.title, complete=n, members=members, rate=rate)
    return table if table.rows else None


nav = web.NavItem.of("admin_surveys.index", "问卷")
