"""Suggestions inbox (职工建议): filters, a suggestion's page and history, the actions, exports,
what workers raise this month, and the overview's "overdue" panel.

The actions call the operations in ``handlers/suggestions.py`` (the same ones the chat and CLI
use) with ``actor=None``: authority here is the account's scope (``get_or_404``) and role
(``write_required``), and the write is recorded in the audit log. Anonymous suggestions show no
author; named ones show the worker's union and an opaque label, never the openid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from bot.admin import web
from bot.admin.audit_log import record
from bot.admin.export import Column, Table, display, export_links, requested_format
from bot.admin.overview import register_panel
from bot.admin.scoping import Scope
from bot.admin.voice_common import report_response, respondent_label
from config import voice_texts as VT
from handlers import delivery
from handlers import suggestions as ops
from handlers.clock import SHANGHAI
from handlers.glossary import action_label
from handlers.suggestions import SuggestionError
from handlers.voice_reports import suggestion_topics, suggestions_as_table
from models import Suggestion, SuggestionEvent, SuggestionState, Union, User, utcnow
from models.admin import AuditEntry

bp = Blueprint("admin_suggestions", __name__, url_prefix="/admin/suggestions")
PAGE_SIZE = 50
ADMIN_ACTIONS = ("accept", "start", "answer", "transfer", "reject")  # rate is the author's
OPEN_STATES = (SuggestionState.SUBMITTED, SuggestionState.ACCEPTED, SuggestionState.IN_PROGRESS)
EVENT_LABELS = VT.SUGGESTION_EVENT_LABELS


def categories() -> list[str]:
    return list(ops.config().categories)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d").date()


@dataclass
class SuggestionFilters:
    state: SuggestionState | None = None
    category: str | None = None
    union_id: int | None = None
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: Any) -> SuggestionFilters:
        f = cls()
        try:
            f.state = SuggestionState(args.get("state", ""))
        except ValueError:
            f.state = None
        category = args.get("category") or None
        f.category = category if category in categories() else None
        f.union_id = args.get("union", type=int)
        f.overdue = args.get("overdue") == "1"
        for attr, key, label in (("date_from", "from", "开始日期"), ("date_to", "to", "结束日期")):
            try:
                setattr(f, attr, _date(args.get(key)))
            except ValueError:
                f.errors.append(f"{label}格式应为 YYYY-MM-DD，如 2026-11-01，已忽略。")
        return f

    def args(self) -> dict[str, str]:
        out = {
            "state": self.state.value if self.state else "",
            "category": self.category or "",
            "union": str(self.union_id or ""),
            "overdue": "1" if self.overdue else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in out.items() if v}


def suggestions_query(session: Session, sc: Scope, f: SuggestionFilters) -> Select[tuple[Suggestion]]:
    stmt = sc.where_union(select(Suggestion), Suggestion.union_id)
    if f.state is not None:
        stmt = stmt.where(Suggestion.state == f.state)
    if f.category:
        stmt = stmt.where(Suggestion.category == f.category)
    if f.union_id is not None:
        union = sc.union(session, f.union_id)  # out of scope: 404
        stmt = stmt.where(Suggestion.union_id.in_(select(Union.id).where(Union.path.startswith(union.path))))
    if f.overdue:
        stmt = stmt.where(
            Suggestion.due_at.is_not(None), Suggestion.due_at < utcnow(), Suggestion.state.in_(OPEN_STATES)
        )
    if f.date_from is not None:
        stmt = stmt.where(Suggestion.created_at >= datetime.combine(f.date_from, time(0), SHANGHAI))
    if f.date_to is not None:
        end = datetime.combine(f.date_to + timedelta(days=1), time(0), SHANGHAI)
        stmt = stmt.where(Suggestion.created_at < end)
    return stmt.options(selectinload(Suggestion.union), selectinload(Suggestion.brand)).order_by(
        Suggestion.id.desc()
    )


def is_overdue(s: Suggestion, now: datetime) -> bool:
    return s.due_at is not None and s.due_at < now and s.state in OPEN_STATES


def suggestion_dict(s: Suggestion, now: datetime) -> dict[str, Any]:
    """A suggestion for pages and the API: no author field of any kind."""
    return {
        "id": s.id,
        "ticket": s.ticket,
        "created_at": s.created_at,
        "category": s.category,
        "brand": s.brand.name if s.brand else None,
        "union_id": s.union_id,
        "union_code": s.union.code,
        "union": s.union.name,
        "state": s.state.value,
        "state_label": s.state.label,
        "anonymous": s.anonymous,
        "content": s.content,
        "reason": s.reason,
        "answer": s.answer,
        "answered_at": s.answered_at,
        "rating": s.rating,
        "due_at": s.due_at,
        "overdue": is_overdue(s, now),
        "escalations": s.escalations,
    }


def _snippet(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def inbox_table(rows: list[Suggestion]) -> Table:
    now = utcnow()
    table = Table(
        "职工建议",
        [
            Column(
                "ticket", "单号", link=lambda r: url_for("admin_suggestions.detail", suggestion_id=r["id"])
            ),
            Column("created_at", "提交时间"),
            Column("category", "分类"),
            Column("union", "受理工会"),
            Column("state_label", "状态"),
            Column("due", "办理时限"),
            Column("snippet", "内容"),
        ],
    )
    for s in rows:
        d = suggestion_dict(s, now)
        due = display(s.due_at) if s.due_at else ""
        d["due"] = f"{due}（已逾期）" if d["overdue"] else due
        d["snippet"] = _snippet(s.content)
        table.add(**d)
    return table


def _union_choices(session: Session, sc: Scope) -> list[Union]:
    return list(session.scalars(select(Union).where(sc.union_condition()).order_by(Union.path)))


@bp.route("/")
def index() -> Any:
    sc = web.scope()
    session = web.db()
    filters = SuggestionFilters.from_args(request.args)
    stmt = suggestions_query(session, sc, filters)
    fmt = requested_format()
    if fmt:
        return report_response(
            suggestions_as_table(session.scalars(stmt.order_by(None).order_by(Suggestion.id))),
            fmt,
            "职工建议",
        )
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = web.count(stmt)
    rows = list(session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render_template(
        "admin/suggestions.html",
        table=inbox_table(rows),
        filters=filters,
        states=list(SuggestionState),
        categories=categories(),
        unions=_union_choices(session, sc),
        total=total,
        page=page,
        page_size=PAGE_SIZE,
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


def _history(session: Session, s: Suggestion) -> Table:
    unions = dict(session.execute(select(Union.id, Union.name)).tuples().all())
    table = Table(
        "办理记录",
        [
            Column("at", "时间"),
            Column("action", "动作"),
            Column("states", "状态"),
            Column("union", "工会"),
            Column("note", "说明"),
        ],
    )
    labels = {st.value: st.label for st in SuggestionState}
    for e in session.scalars(
        select(SuggestionEvent).where(SuggestionEvent.suggestion_id == s.id).order_by(SuggestionEvent.id)
    ):
        states = labels.get(e.to_state, e.to_state)
        if e.from_state and e.from_state != e.to_state:
            states = f"{labels.get(e.from_state, e.from_state)} → {states}"
        table.add(
            at=e.at,
            action=EVENT_LABELS.get(e.action, e.action),
            states=states,
            union=unions.get(e.union_id or 0, ""),
            note=e.note,
        )
    return table


@dataclass
class AnswerDeliveries:
    """One answer (a reopened suggestion has two) and how it reached the worker."""

    answered_at: datetime
    table: Table


def _deliveries(session: Session, s: Suggestion) -> list[AnswerDeliveries]:
    """Per answer: every delivery attempt (channel, status, when, WeChat's error in Chinese)."""
    if s.anonymous:
        return []  # never pushed, never recorded
    rows = delivery.deliveries(session, s)
    answers = session.execute(
        select(SuggestionEvent.id, SuggestionEvent.at)
        .where(SuggestionEvent.suggestion_id == s.id, SuggestionEvent.action == "answer")
        .order_by(SuggestionEvent.id)
    ).all()
    out: list[AnswerDeliveries] = []
    for event_id, at in answers:
        table = Table(
            "答复送达",
            [
                Column("at", "时间"),
                Column("channel_label", "方式"),
                Column("status_label", "状态"),
                Column("finished_at", "结果时间"),
                Column("errcode", "错误码"),
                Column("note", "说明"),
            ],
        )
        for row in rows:
            if row["answer_event_id"] == event_id:
                table.add(**row)
        out.append(AnswerDeliveries(answered_at=at, table=table))
    return out


def _admin_actions(session: Session, s: Suggestion) -> Table:
    table = Table(
        "后台操作", [Column("created_at", "时间"), Column("actor", "账号"), Column("action", "操作")]
    )
    for entry in session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "suggestion", AuditEntry.target_id == str(s.id))
        .order_by(AuditEntry.id)
    ):
        table.add(
            created_at=entry.created_at,
            actor=entry.actor,
            action=action_label(entry.action),
        )
    return table


def _render_detail(s: Suggestion, error: str | None = None, form: dict[str, str] | None = None) -> Any:
    session = web.db()
    sc = web.scope()
    allowed = {a for a, (states, _t) in ops.TRANSITIONS.items() if s.state in states} & set(ADMIN_ACTIONS)
    body = render_template(
        "admin/suggestion_detail.html",
        s=s,
        d=suggestion_dict(s, utcnow()),
        author=_author(session, s),
        history=_history(session, s),
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
    job = None
    try:
        if action == "accept":
            ops.accept(session, s, None, now)
        elif action == "start":
            ops.start(session, s, None, now)
        elif action == "answer":
            job = ops.answer(session, s, None, form["answer"], now)
        elif action == "reject":
            ops.reject(session, s, None, form["reason"], now)
        elif action == "transfer":
            try:
                target_id = int(form["union"])
            except ValueError:
                raise SuggestionError("请选择要转办到的工会。") from None
            target = web.scope().union(session, target_id)  # outside the scope: 404
            ops.transfer(session, s, None, target, now, note=form["note"].strip() or None)
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


def month_bounds(month: str | None) -> tuple[date, datetime, datetime]:
    today = utcnow().astimezone(SHANGHAI).date()
    try:
        first = datetime.strptime(month, "%Y-%m").date() if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, datetime.combine(first, time(0), SHANGHAI), datetime.combine(nxt, time(0), SHANGHAI)


@bp.route("/topics")
def topics() -> Any:
    sc = web.scope()
    first, start, end = month_bounds(request.args.get("month"))
    stmt = sc.where_union(select(Suggestion), Suggestion.union_id).where(
        Suggestion.created_at >= start, Suggestion.created_at < end
    )
    rows = list(web.db().scalars(stmt))
    data = suggestion_topics(rows)
    cat_table = Table("分类", [Column("name", "分类"), Column("value", "建议数")])
    for name, value in data["categories"]:
        cat_table.add(name=name, value=value)
    kw_table = Table("关键词", [Column("name", "关键词"), Column("value", "提到的建议数")])
    for name, value in data["keywords"]:
        kw_table.add(name=name, value=value)
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
    now = utcnow()
    stmt = (
        sc.where_union(select(Suggestion), Suggestion.union_id)
        .where(Suggestion.due_at.is_not(None), Suggestion.due_at < now, Suggestion.state.in_(OPEN_STATES))
        .options(selectinload(Suggestion.union))
        .order_by(Suggestion.due_at)
        .limit(10)
    )
    table = Table(
        "逾期的建议",
        [
            Column(
                "ticket", "单号", link=lambda r: url_for("admin_suggestions.detail", suggestion_id=r["id"])
            ),
            Column("union", "受理工会"),
            Column("state_label", "状态"),
            Column("due_at", "时限"),
        ],
    )
    for s in session.scalars(stmt):
        table.add(id=s.id, ticket=s.ticket, union=s.union.name, state_label=s.state.label, due_at=s.due_at)
    return table if table.rows else None


register_panel("overdue_suggestions", "逾期的建议", overdue_panel)

nav = web.NavItem.of("admin_suggestions.index", "职工建议")
