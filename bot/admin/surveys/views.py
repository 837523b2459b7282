"""Survey pages: templates with response counts, open/close, results per question with charts,
exports, and the overview's "participation" panel.

Responses count for a scope through their respondents' unions (``handlers.surveys.queries``).
Results with fewer than ``MIN_GROUP_N`` responses in the viewer's scope are suppressed as a whole
(``handlers.surveys.results.scoped_results``).

Admins of a top union (no parent) open and close surveys: surveys are not owned by a union, so
a county must not close the province's survey for everyone. Templates themselves are read-only
here: see docs/zh/admin-voice.md for why editing is not offered.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.audit_log import record
from bot.admin.export import export_links, requested_format
from bot.admin.feedback_common import report_response
from bot.admin.scoping import Scope
from bot.admin.surveys.exports import question_view
from handlers.actor import Actor
from handlers.surveys.operations import set_open
from handlers.surveys.queries import (
    Respondents,
    SurveyState,
    is_open,
    is_top_union,
    participation,
    respondents_for,
    survey_rows,
)
from handlers.surveys.reports import survey_table
from handlers.surveys.results import GROUP_LABELS, MIN_GROUP_N, scoped_results
from handlers.surveys.templates import Template, templates
from handlers.tables import Column, Table
from models import Union, utcnow

bp = Blueprint("admin_surveys", __name__, url_prefix="/admin/surveys")
STATE_LABELS = {SurveyState.OPEN: "进行中", SurveyState.CLOSED: "已关闭"}


def respondents(session: Session, sc: Scope) -> Respondents:
    return respondents_for(session, sc.union_ids(), sc.root_id, sc.role)


def _template(key: str) -> Template:
    tpl = templates().get(key)
    if tpl is None:
        abort(404)
    return tpl


def can_schedule(session: Session, sc: Scope) -> bool:
    return sc.can_write and is_top_union(session, sc.root_id)


@bp.route("/")
def index() -> Any:
    session = web.db()
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
    for row in survey_rows(session, respondents(session, web.scope())):
        tpl = row.template
        table.add(
            key=tpl.key,
            title=tpl.title + ("（默认）" if tpl.default else ""),
            state=STATE_LABELS[row.state],
            questions=len(tpl.questions),
            complete=row.complete,
            in_progress=row.in_progress,
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
    before = set_open(session, tpl, open_, utcnow(), Actor.admin(account.username))
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


@bp.route("/<key>")
def results(key: str) -> Any:
    tpl = _template(key)
    sc = web.scope()
    session = web.db()
    since = _since()
    fmt = requested_format()
    if fmt:
        return report_response(survey_table(session, key, since, respondents(session, sc)), fmt, tpl.title)
    data = scoped_results(session, key, since, respondents(session, sc))
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
    table = Table(
        "问卷参与情况",
        [
            Column("title", "问卷"),
            Column("complete", "完成答卷"),
            Column("members", "会员数"),
            Column("rate", "参与率"),
        ],
    )
    for tpl, n in participation(session, respondents(session, sc)):
        rate = f"{100.0 * n / members:.2f}%" if members else "—（未填会员数）"
        table.add(title=tpl.title, complete=n, members=members, rate=rate)
    return table if table.rows else None


nav = web.NavItem.of("admin_surveys.index", "问卷")
