"""What the chat, the dashboard, the API and the CLI read about suggestions.

The dashboard's inbox is filtered inside the account's scope: callers pass the scope's union ids
as a subquery (``Scope.union_ids()``), and resolve a filter union themselves (out of scope: 404).
Nothing here returns an author: pages show a named author's union and an opaque label only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from config import voice_texts as T
from config.suggestions import default_config as config
from handlers.clock import SHANGHAI
from handlers.notify import within_service_window
from handlers.suggestions.states import OPEN_STATES
from models import Suggestion, SuggestionEvent, SuggestionState, Union, User

S = SuggestionState


def find_ticket(session: Session, ticket: str) -> Suggestion | None:
    return session.scalar(select(Suggestion).where(Suggestion.ticket == ticket.upper()))


def my_suggestions(session: Session, user: User, limit: int = 10) -> list[Suggestion]:
    return list(
        session.scalars(
            select(Suggestion)
            .where(Suggestion.user_id == user.id)
            .order_by(Suggestion.id.desc())
            .limit(limit)
        )
    )


def pending_deliveries(session: Session, now: datetime) -> list[int]:
    """Answers still owed to named authors whose service window is open (for a sweep command)."""
    rows = session.execute(
        select(Suggestion.id, User)
        .join(User, User.id == Suggestion.user_id)
        .where(Suggestion.state == S.ANSWERED, Suggestion.answer_delivered_at.is_(None))
    ).all()
    return [sid for sid, user in rows if within_service_window(user, now)]


# --- the dashboard's inbox and the API --------------------------------------------------------


def categories() -> list[str]:
    return list(config().categories)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d").date()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
    def from_args(cls, args: Mapping[str, Any]) -> SuggestionFilters:
        """From a query string; a bad date is ignored with a Chinese note in ``errors``."""
        f = cls()
        try:
            f.state = SuggestionState(args.get("state", ""))
        except ValueError:
            f.state = None
        category = args.get("category") or None
        f.category = category if category in categories() else None
        f.union_id = _int(args.get("union"))
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


def inbox(
    in_scope: Select[tuple[int]], f: SuggestionFilters, now: datetime, within: Union | None = None
) -> Select[tuple[Suggestion]]:
    """The inbox, newest first: suggestions of the scope's unions matching ``f``; ``within`` is
    the filter union (``f.union_id``), already checked to be in scope."""
    stmt = select(Suggestion).where(Suggestion.union_id.in_(in_scope))
    if f.state is not None:
        stmt = stmt.where(Suggestion.state == f.state)
    if f.category:
        stmt = stmt.where(Suggestion.category == f.category)
    if within is not None:
        stmt = stmt.where(Suggestion.union_id.in_(select(Union.id).where(Union.path.startswith(within.path))))
    if f.overdue:
        stmt = stmt.where(
            Suggestion.due_at.is_not(None), Suggestion.due_at < now, Suggestion.state.in_(OPEN_STATES)
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


def overdue(
    session: Session, in_scope: Select[tuple[int]], now: datetime, limit: int = 10
) -> list[Suggestion]:
    """The scope's overdue suggestions, the longest overdue first."""
    stmt = (
        select(Suggestion)
        .where(Suggestion.union_id.in_(in_scope))
        .where(Suggestion.due_at.is_not(None), Suggestion.due_at < now, Suggestion.state.in_(OPEN_STATES))
        .options(selectinload(Suggestion.union))
        .order_by(Suggestion.due_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def history(session: Session, s: Suggestion) -> list[dict[str, Any]]:
    """Every event of the suggestion, oldest first: when, what, the states, the union, the note."""
    unions = dict(session.execute(select(Union.id, Union.name)).tuples().all())
    labels = {st.value: st.label for st in SuggestionState}
    rows = []
    for e in session.scalars(
        select(SuggestionEvent).where(SuggestionEvent.suggestion_id == s.id).order_by(SuggestionEvent.id)
    ):
        states = labels.get(e.to_state, e.to_state)
        if e.from_state and e.from_state != e.to_state:
            states = f"{labels.get(e.from_state, e.from_state)} → {states}"
        rows.append(
            {
                "at": e.at,
                "action": T.SUGGESTION_EVENT_LABELS.get(e.action, e.action),
                "states": states,
                "union": unions.get(e.union_id or 0, ""),
                "note": e.note,
            }
        )
    return rows


def answer_events(session: Session, s: Suggestion) -> list[tuple[int, datetime]]:
    """The id and time of each answer (a reopened suggestion has two), oldest first."""
    rows = session.execute(
        select(SuggestionEvent.id, SuggestionEvent.at)
        .where(SuggestionEvent.suggestion_id == s.id, SuggestionEvent.action == "answer")
        .order_by(SuggestionEvent.id)
    ).tuples()
    return list(rows)


# --- what workers raise in a month ------------------------------------------------------------


def month_bounds(month: str | None, now: datetime) -> tuple[date, datetime, datetime]:
    """The month ``YYYY-MM`` (this month when missing or unreadable): its first day, and its
    start and end in Shanghai."""
    today = now.astimezone(SHANGHAI).date()
    try:
        first = datetime.strptime(month, "%Y-%m").date() if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, datetime.combine(first, time(0), SHANGHAI), datetime.combine(nxt, time(0), SHANGHAI)


def filed_between(
    session: Session, in_scope: Select[tuple[int]], start: datetime, end: datetime
) -> list[Suggestion]:
    stmt = (
        select(Suggestion)
        .where(Suggestion.union_id.in_(in_scope))
        .where(Suggestion.created_at >= start, Suggestion.created_at < end)
    )
    return list(session.scalars(stmt))
