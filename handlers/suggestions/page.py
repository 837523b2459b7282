"""What the H5 "my suggestions" page and the ticket lookup show, and what reading them records.

A named worker's list comes from their user id. An anonymous suggestion holds no user id, so it
is never listed: it opens only with its ticket and access code (``open_by_code``), under the
chat's wrong-code limits, and the lookup records nothing that ties the reader to the ticket (no
reading time, no user row; a wrong code leaves only the chat's keyed attempt rows). A wrong code,
an unknown ticket and a named ticket get the same answer: the lookup says nothing about which
tickets exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from config import voice_texts as T
from handlers.anonymity import CODE_ALPHABET, CODE_LENGTH, code_matches, hash_code, normalise_code
from handlers.clock import show_day, show_time
from handlers.suggestions.access import code_locked, note_wrong_code
from handlers.suggestions.numbering import normalise_ticket
from handlers.suggestions.operations import mark_answer_read, rate
from handlers.suggestions.queries import find_ticket
from handlers.suggestions.states import RATINGS
from models import Suggestion, SuggestionState, Union, User
from models.delivery import DeliveryChannel

S = SuggestionState
LIST_LIMIT = 50
# Notes the worker may read: a transfer's note is the unions' own working note.
_NOTE_SHOWN = {"reject", "rate", "reopen", "escalate", "overdue"}


@dataclass(frozen=True)
class HistoryLine:
    when: str
    action: str
    states: str
    union: str
    note: str | None


@dataclass(frozen=True)
class TicketView:
    id: int
    ticket: str
    state: SuggestionState
    content: str
    category: str
    union: str
    created: str
    due: str | None
    reason: str | None
    answer: str | None
    rating: str | None
    anonymous: bool
    history: tuple[HistoryLine, ...]

    @property
    def can_rate(self) -> bool:
        return self.state is S.ANSWERED


def _union_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Union.id, Union.name).where(Union.id.in_(ids))).tuples().all())


def _history(s: Suggestion, unions: dict[int, str]) -> tuple[HistoryLine, ...]:
    shown = show_day if s.anonymous else show_time
    labels = {st.value: st.label for st in S}
    out = []
    for e in s.events:
        states = labels.get(e.to_state, e.to_state)
        if e.from_state and e.from_state != e.to_state:
            states = f"{labels.get(e.from_state, e.from_state)} → {states}"
        note = e.note if e.action in _NOTE_SHOWN else None
        if note is not None and e.action in ("rate", "reopen"):
            note = T.RATING_LABELS.get(note, note)
        out.append(
            HistoryLine(
                when=shown(e.at),
                action=T.SUGGESTION_EVENT_LABELS.get(e.action, e.action),
                states=states,
                union=unions.get(e.union_id or 0, ""),
                note=note,
            )
        )
    return tuple(out)


def ticket_view(s: Suggestion, unions: dict[int, str]) -> TicketView:
    # Anonymous suggestions keep only their day (see operations._at): show dates, not 00:00.
    shown = show_day if s.anonymous else show_time
    due = None
    if s.due_at is not None:
        due = shown(s.due_at - timedelta(days=1) if s.anonymous else s.due_at)  # end of that day
    return TicketView(
        id=s.id,
        ticket=s.ticket,
        state=s.state,
        content=s.content,
        category=s.category,
        union=s.union.name,
        created=shown(s.created_at),
        due=due,
        reason=s.reason if s.state is S.REJECTED else None,
        answer=s.answer if s.state in (S.ANSWERED, S.RATED) else None,
        rating=T.RATING_LABELS.get(s.rating) if s.rating else None,
        anonymous=s.anonymous,
        history=_history(s, unions),
    )


def _views(session: Session, rows: list[Suggestion]) -> list[TicketView]:
    ids = {e.union_id for s in rows for e in s.events if e.union_id is not None}
    unions = _union_names(session, ids)
    return [ticket_view(s, unions) for s in rows]


def my_tickets(session: Session, user: User, now: datetime) -> list[TicketView]:
    """The worker's named suggestions, newest first; an answer shown here counts as delivered."""
    rows = list(
        session.scalars(
            select(Suggestion)
            .where(Suggestion.user_id == user.id)
            .options(selectinload(Suggestion.events), selectinload(Suggestion.union))
            .order_by(Suggestion.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    for s in rows:
        mark_answer_read(session, s, now, DeliveryChannel.PAGE)
    session.flush()
    return _views(session, rows)


@dataclass(frozen=True)
class Lookup:
    # found | wrong (wrong code, unknown or named ticket: one answer) | locked | bad_ticket | bad_code
    outcome: str
    view: TicketView | None = None


def _code_shaped(code: str) -> bool:
    if len(code) == 4 and code.isascii() and code.isdigit():
        return True  # a code from before migration 0010
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def open_by_code(session: Session, openid: str, ticket_text: str, code_text: str, now: datetime) -> Lookup:
    """An anonymous suggestion by its ticket and access code, with the chat's wrong-code limits."""
    ticket = normalise_ticket(ticket_text)
    if ticket is None:
        return Lookup("bad_ticket")
    code = normalise_code(code_text)
    if not _code_shaped(code):
        return Lookup("bad_code")
    if code_locked(session, openid, ticket, now):
        return Lookup("locked")
    s = find_ticket(session, ticket)
    if s is None:
        hash_code(ticket, code)  # the same work as for a real ticket
    if s is None or not s.anonymous or not code_matches(s.ticket, code, s.access_code_hash):
        note_wrong_code(session, openid, ticket, now)
        return Lookup("wrong")
    return Lookup("found", _views(session, [s])[0])


def rate_own(session: Session, user: User, suggestion_id: int, rating: str, now: datetime) -> str:
    """The author rates the answer from the page: rated | reopened | closed | not_found | bad."""
    if rating not in RATINGS:
        return "bad"
    s = session.get(Suggestion, suggestion_id)
    if s is None or s.anonymous or s.user_id != user.id:
        return "not_found"
    if s.state is not S.ANSWERED:
        return "closed"
    mark_answer_read(session, s, now, DeliveryChannel.PAGE)
    rated = rate(session, s, rating, now)
    return "rated" if rated.rating is not None else "reopened"
