"""Suggestions inbox (职工建议): filters, a suggestion's page and history, the actions, exports,
what workers raise this month, and the overview's "overdue" panel.

The actions call the operations in ``handlers/suggestions/operations.py`` (the same ones the chat
and CLI use) with the account as the actor (``Actor.admin``): authority here is the account's
scope (``get_or_404``) and role (``write_required``), and the write is recorded in the audit log.
Anonymous suggestions show no author; named ones show the worker's union and an opaque label,
never the openid.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.audit_log import record
from bot.admin.export import export_links, requested_format
from bot.admin.feedback_common import report_response, respondent_label
from bot.admin.overview import register_panel
from bot.admin.scoping import Scope
from bot.admin.suggestions import exports
from config import voice_texts as VT
from handlers import delivery
from handlers.actor import Actor
from handlers.feedback_reports import suggestion_topics, suggestions_as_table
from handlers.suggestions import operations as ops
from handlers.suggestions import queries
from handlers.suggestions.errors import SuggestionError
from handlers.suggestions.queries import SuggestionFilters, categories
from handlers.suggestions.states import TRANSITIONS
from handlers.tables import Table
from models import Suggestion, SuggestionState, Union, User, utcnow
from models.admin import AuditEntry

bp = Blueprint("admin_suggestions", __name__, url_prefix="/admin/suggestions")
PAGE_SIZE = 50
ADMIN_ACTIONS = ("accept", "start", "answer", "transfer", "reject")  # rate is the author's


def inbox_query(session: Session, sc: Scope, f: SuggestionFilters) -> Select[tuple[Suggestion]]:
    """The inbox of the account's scope; a filter union outside it answers 404."""
    within = sc.union(session, f.union_id) if f.union_id is not None else None
    return queries.inbox(sc.union_ids(), f, utcnow(), within)


def _union_choices(session: Session, sc: Scope) -> list[Union]:
    return list(session.scalars(select(Union).where(sc.union_condition()).order_by(Union.path)))


@bp.route("/")
def index() -> Any:
    sc = web.scope()
    session = web.db()
    filters = SuggestionFilters.from_args(request.args)
    stmt = inbox_query(session, sc, filters)
    fmt = requested_format()
    if fmt:
        return report_response(
            suggestions_as_table(session.scalars(stmt.order_by(None).order_by(Suggestion.id))),
            fmt,
            "职工建议",
        )
    page = web.paginate(stmt, PAGE_SIZE)
    return render_template(
        "admin/suggestions.html",
        table=exports.inbox_table(page.rows, utcnow()),
        filters=filters,
        states=list(SuggestionState),
        categories=categories(),
        unions=_union_choices(session, sc),
        total=page.total,
        page=page.number,
        page_size=page.size,
        exports=export_links(),
    )


# --- a suggestion's page and its actions --------------------------------------------------------


def _author(session: Session, s: Suggestion) -> dict[str, str] | None:
    """Named authors: their union and an opaque label. Anonymous: nothing at all."""
    if s.anonymous or s.user_id is None:
        return None
    user = session.get(User, s.user_id)
    if user is None:
        return None
    return {"label": respondent_label(user.id), "union": user.union.name if user.union else "未绑定工会"}


def _deliveries(session: Session, s: Suggestion) -> list[exports.AnswerDeliveries]:
    if s.anonymous:
        return []  # never pushed, never recorded
    return exports.delivery_tables(delivery.deliveries(session, s), queries.answer_events(session, s))


def _admin_actions(session: Session, s: Suggestion) -> Table:
    return exports.admin_actions_table(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "suggestion", AuditEntry.target_id == str(s.id))
            .order_by(AuditEntry.id)
        )
    )


def _render_detail(s: Suggestion, error: str | None = None, form: dict[str, str] | None = None) -> Any:
    session = web.db()
    sc = web.scope()
    allowed = {a for a, (states, _t) in TRANSITIONS.items() if s.state in states} & set(ADMIN_ACTIONS)
    body = render_template(
        "admin/suggestion_detail.html",
        s=s,
        d=queries.suggestion_dict(s, utcnow()),
        author=_author(session, s),
        history=exports.history_table(queries.history(session, s)),
        admin_actions=_admin_actions(session, s),
        deliveries=_deliveries(session, s),
        delivery_none=VT.DELIVERY_NONE_YET,
        delivery_anonymous=VT.DELIVERY_ANONYMOUS,
        allowed=allowed,
        can_write=sc.can_write,
        unions=[u for u in _union_choices(session, sc) if u.id != s.union_id],
        error=error,
        form=form or {},
    )
    return body, 400 if error else 200


@bp.route("/<int:suggestion_id>")
def detail(suggestion_id: int) -> Any:
    return _render_detail(_get(suggestion_id))


def _get(suggestion_id: int) -> Suggestion:
    return web.scope().get_or_404(web.db(), Suggestion, suggestion_id, Suggestion.union_id)


def _snapshot(s: Suggestion) -> dict[str, Any]:
    # Audit before/after: never the author (user_id, openid, access code).
    return {"ticket": s.ticket, "state": s.state.label, "union": s.union.code}


def _get_for_update(suggestion_id: int) -> Suggestion:
    """The suggestion, row-locked until commit: two admins acting at once are serialised, so
    the second sees the first's state (and gets the operation's error) instead of answering twice."""
    sc = web.scope()
    stmt = sc.where_union(select(Suggestion).where(Suggestion.id == suggestion_id), Suggestion.union_id)
    s: Suggestion | None = web.db().scalar(stmt.with_for_update(of=Suggestion))
    if s is None:
        abort(404)
    return s


def _act(suggestion_id: int, action: str) -> Any:
    session = web.db()
    s = _get_for_update(suggestion_id)
    form = {k: request.form.get(k, "") for k in ("answer", "reason", "union", "note")}
    before = _snapshot(s)
    now = utcnow()
    actor = Actor.admin(web.current_account().username)
    job = None
    try:
        if action == "accept":
            ops.accept(session, s, actor, now)
        elif action == "start":
            ops.start(session, s, actor, now)
        elif action == "answer":
            job = ops.answer(session, s, actor, form["answer"], now)
        elif action == "reject":
            ops.reject(session, s, actor, form["reason"], now)
        elif action == "transfer":
            try:
                target_id = int(form["union"])
            except ValueError:
                raise SuggestionError("请选择要转办到的工会。") from None
            target = web.scope().union(session, target_id)  # outside the scope: 404
            ops.transfer(session, s, actor, target, now, note=form["note"].strip() or None)
    except SuggestionError as exc:
        session.rollback()
        return _render_detail(_get(suggestion_id), str(exc), form)
    after = _snapshot(s)
    if action == "answer":
        after["answer"] = s.answer
    elif action == "reject":
        after["reason"] = s.reason
    elif action == "transfer" and form["note"].strip():
        after["note"] = form["note"].strip()
    record(session, f"suggestion.{action}", "suggestion", s.id, before, after)
    # The push is written to the outbox in the answer's own transaction: it exists exactly when
    # the answer does, even if the queue is down at commit.
    ids = web.runtime().queue.stage(session, [job]) if job is not None else []
    session.commit()
    web.runtime().queue.dispatch(ids)
    messages = {
        "accept": "已受理。",
        "start": "已开始办理。",
        "answer": "已答复。"
        + ("答复将推送给职工。" if job is not None else "匿名建议的答复在作者查询单号时显示。"),
        "reject": "已不予受理。",
        "transfer": f"已转办到{s.union.name}。",
    }
    flash(f"单号 {s.ticket}：{messages[action]}", "success")
    if action == "transfer" and s.union_id not in set(web.db().scalars(web.scope().union_ids())):
        return redirect(url_for("admin_suggestions.index"))
    return redirect(url_for("admin_suggestions.detail", suggestion_id=s.id))


def _action_view(action: str) -> Any:
    @web.write_required
    def view(suggestion_id: int) -> Any:
        return _act(suggestion_id, action)

    view.__name__ = f"act_{action}"
    return view


for _action in ADMIN_ACTIONS:
    bp.add_url_rule(
        f"/<int:suggestion_id>/{_action}", f"act_{_action}", _action_view(_action), methods=["POST"]
    )


# --- what workers raise this month ----------------------------------------------------------------


@bp.route("/topics")
def topics() -> Any:
    sc = web.scope()
    first, start, end = queries.month_bounds(request.args.get("month"), utcnow())
    rows = queries.filed_between(web.db(), sc.union_ids(), start, end)
    cat_table, kw_table = exports.topic_tables(suggestion_topics(rows))
    prev = (first - timedelta(days=1)).replace(day=1)
    return render_template(
        "admin/suggestion_topics.html",
        month=first,
        prev_month=prev.strftime("%Y-%m"),
        total=len(rows),
        cat_table=cat_table,
        kw_table=kw_table,
        cat_chart={"type": "hbar", "title": "建议数", "data": cat_table.rows},
        kw_chart={"type": "hbar", "title": "提到的建议数", "data": kw_table.rows},
    )


# --- overview panel ---------------------------------------------------------------------------


def overdue_panel(session: Session, sc: Scope) -> Table | None:
    table = exports.overdue_table(queries.overdue(session, sc.union_ids(), utcnow()))
    return table if table.rows else None


def register_panels(app: Flask) -> None:
    register_panel(app, "overdue_suggestions", "逾期的建议", overdue_panel)


nav = web.NavItem.of("admin_suggestions.index", "职工建议")
